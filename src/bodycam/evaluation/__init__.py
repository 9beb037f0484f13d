"""Program evaluation: do officers with cameras have fewer complaints and uses of force?

The engine stands alone: it reads an agency's outcome exports (complaints, use of
force, arrests, stops, assaults on officers) and a roster of officers or units with
their camera assignment, through TOML column mappings (`mapping`, `data`); builds one
officer-level file (pre and post windows) or a unit-by-period panel; and estimates the
effect with honest uncertainty (`estimators`, `did`, `power`). Nothing is stored in the
database. ``docs/evaluation.md`` documents the data model, the mapping format and each
estimator with its formula.
"""
