"""Background jobs: one interface (the job table), run in-process (``bodycam serve``,
``bodycam worker``, the CLI) or by Celery workers on a Redis broker (``BODYCAM_JOBS=celery``).

``runner`` submits, claims and runs jobs; ``dispatch`` tells a broker about them after
commit; ``celery_app`` is the Celery runner; ``schedule`` queues periodic jobs (the
scrub); ``worker`` is ``bodycam worker``; ``service`` and ``cli`` read and retry them.
"""
