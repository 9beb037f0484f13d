"""Benchmark: redacting faces in body-camera video, bodycam against deface.

Generates a 1280x720, 30 fps H.264 + AAC clip (``--seconds``, default 20) with real faces
(the astronaut portrait bundled in scikit-image) that move, grow and shrink, enter and
leave, pass behind a sweeping bar (partial occlusion), are smeared by fast motion for a few
frames (CenterFace misses those), under camera shake. Every frame's visible face boxes are
known. Generation is not timed. Then, in the same run, on the same file:

* bodycam: ``bodycam redact auto IN OUT --scale 640x360`` (a subprocess, wall time);
* deface: ``deface IN -o OUT --keep-audio --scale 640x360`` (a subprocess, wall time), from
  a throwaway virtual environment made in the scratch folder (``pip install deface``): its
  GUI OpenCV must not enter the project's environment. ``--deface-venv DIR`` reuses one.
  When it cannot be installed, deface's side is skipped and the script says so.

Both outputs are scored from their pixels (``bodycam.redaction.faceclip.score_output``):
coverage (share of visible ground-truth faces whose detail no longer correlates with the
original), flash frames (frames where any visible face is not redacted), false redacted
area (share of pixels away from faces that changed strongly), frames per second, whether
the audio survived; and bodycam's review effort (tracks, i.e. decisions, per minute).
Last line:
``redact: FPS ratio X (bodycam A fps, deface B fps), coverage C vs D, flash frames E vs F``.

    .venv/bin/python bench/redact.py             # 20 s of 720p30
    .venv/bin/python bench/redact.py --quick     # 6 s
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import av
from _common import add_common_args, log, machine, scratch, timed

from bodycam.redaction.faceclip import FaceClip, Score, Walker, score_output

WIDTH, HEIGHT, FPS = 1280, 720, 30
BIN = Path(sys.executable).parent


def make_clip(seconds: float) -> FaceClip:
    """The benchmark scene: four faces, shake, an occluder and smeared frames."""
    frames = round(seconds * FPS)

    def smear(*starts: int) -> frozenset[int]:
        return frozenset(f for s in starts for f in (s, s + 1, s + 2) if s + 2 < frames)

    return FaceClip(
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        seconds=seconds,
        seed=21,
        shake=8.0,
        occluder=True,
        walkers=[
            Walker(start=(0.1, 0.2), velocity=(0.006, 0.004), height=0.30, smear=smear(40, 200)),
            Walker(
                start=(0.8, 0.6),
                velocity=(-0.004, 0.005),
                height=0.12,
                grow=0.0004,
                mirror=True,
                smear=smear(120, 400),
            ),
            Walker(start=(0.5, 0.1), velocity=(0.009, 0.0), height=0.08, enter=60, leave=450),
            Walker(
                start=(0.3, 0.9),
                velocity=(0.003, -0.006),
                height=0.22,
                mirror=True,
                enter=150,
                smear=smear(300),
            ),
        ],
    )


def deface_bin(work: Path, reuse: Path | None) -> Path | None:
    """deface's CLI in its own virtual environment, or None when it cannot be installed."""
    venv = reuse or work / "deface-venv"
    exe = venv / "bin" / "deface"
    if exe.exists():
        return exe
    log(f"installing deface into a throwaway venv ({venv}) ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "deface"],
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        log(f"deface could not be installed ({exc}); its side is skipped")
        return None
    return exe if exe.exists() else None


def has_audio(path: Path, seconds: float) -> bool:
    """True when `path` has an audio track lasting about `seconds`."""
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return False
        stream = c.streams.audio[0]
        samples = sum(f.samples for f in c.decode(stream))
        return samples >= 0.95 * seconds * (stream.rate or 1)


def run_side(name: str, cmd: list[str], out: Path) -> tuple[float, str]:
    """Run one side; its wall seconds and standard output."""
    log(f"{name}: {' '.join(cmd)}")
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"{name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return seconds, done.stdout


def report(name: str, score: Score, frames: int, seconds: float, audio: bool) -> None:
    """Print one side's figures."""
    log(
        f"  {name}: {seconds:.1f} s, {frames / seconds:.1f} fps, coverage {score.coverage:.3f} "
        f"({score.redacted}/{score.faces} faces), flash frames {len(score.flash_frames)}, "
        f"false redacted area {100 * score.false_area:.2f}%, audio "
        f"{'kept' if audio else 'LOST'}"
    )
    if score.flash_frames:
        more = " ..." if len(score.flash_frames) > 20 else ""
        log(f"    flash frames: {score.flash_frames[:20]}{more}")


def phases(src: Path, out: Path, detect_every: int) -> None:
    """Run bodycam in-process and show where its time goes.

    The detector runs in its own thread, overlapping decoding, drawing and encoding in
    the main thread, so the detector's busy time and the main thread's are both shown as
    shares of the wall time (they add up to more than 100% when they overlap).
    """
    from bodycam.redaction import engine, render
    from bodycam.redaction.detect import make_detector

    detector = make_detector("centerface")
    spent = {"detector": 0.0, "draw": 0.0}
    detect, draw = detector.detect, render.redact_frame

    def timed_detect(frame):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return detect(frame)
        finally:
            spent["detector"] += time.perf_counter() - start

    def timed_draw(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return draw(*args, **kwargs)
        finally:
            spent["draw"] += time.perf_counter() - start

    detector.detect = timed_detect  # type: ignore[method-assign]
    engine.redact_frame = timed_draw  # type: ignore[assignment]
    try:
        total, result = timed(
            lambda: engine.redact_video(
                src, out, engine.RedactOptions(detect_every=detect_every), detector=detector
            )
        )
    finally:
        engine.redact_frame = draw
    log(f"  bodycam in-process: {total:.1f} s, {result.frames / total:.1f} fps")
    log(
        f"    detector thread busy: {spent['detector']:.1f} s "
        f"({100 * spent['detector'] / total:.0f}% of wall time)"
    )
    log(f"    drawing (main thread): {spent['draw']:.1f} s ({100 * spent['draw'] / total:.0f}%)")
    alone, frames = timed(lambda: transcode(src, out))
    log(f"    decode + RGB + encode alone (no detection): {alone:.1f} s, {frames / alone:.1f} fps")
    detector_alone = 0.0
    with av.open(str(src)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i % 10 == 0:
                rgb = frame.to_ndarray(format="rgb24")
                detector_alone += timed(lambda rgb=rgb: detect(rgb))[0]
    log(f"    detector alone: {1000 * detector_alone / (frames / 10):.1f} ms a frame")


def transcode(src: Path, out: Path) -> int:
    """Decode to RGB and encode as bodycam does, without detecting or drawing; frames."""
    count = 0
    with av.open(str(src)) as inp, av.open(str(out), "w", format="mp4") as dst:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        vout = dst.add_stream("libx264", rate=vin.average_rate)
        vout.width, vout.height, vout.pix_fmt = vin.width, vin.height, "yuv420p"
        vout.options = {"preset": "veryfast", "crf": "20"}
        for frame in inp.decode(vin):
            rgb = frame.to_ndarray(format="rgb24")
            again = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            again.pts = count
            dst.mux(vout.encode(again))
            count += 1
        dst.mux(vout.encode(None))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="clip length (s)")
    parser.add_argument("--quick", action="store_true", help="a 6 s clip (smoke run)")
    parser.add_argument("--deface-venv", type=Path, default=None, help="reuse this deface venv")
    parser.add_argument("--detect-every", type=int, default=1, help="bodycam --detect-every")
    parser.add_argument("--phases", action="store_true", help="also split bodycam's time")
    add_common_args(parser)
    args = parser.parse_args()
    seconds = 6.0 if args.quick else args.seconds
    log(f"machine: {machine()}")

    with scratch(args.workdir, args.keep, "bench-redact-") as work:
        clip = make_clip(seconds)
        src = work / "bodycam.mp4"
        gen_s, _ = timed(lambda: clip.write(src))
        log(
            f"generated {clip.frames} frames of {WIDTH}x{HEIGHT} at {FPS} fps "
            f"({src.stat().st_size / 1e6:.1f} MB) in {gen_s:.0f} s"
        )
        deface = deface_bin(work, args.deface_venv)

        mine_out = work / "bodycam-redacted.mp4"
        cmd = [str(BIN / "bodycam"), "redact", "auto", str(src), str(mine_out)]
        cmd += ["--scale", "640x360", "--detect-every", str(args.detect_every)]
        mine_s, stdout = run_side("bodycam", cmd, mine_out)
        tracks = int(m[1]) if (m := re.search(r"(\d+) tracks", stdout)) else -1
        mine = score_output(clip, mine_out)
        mine_audio = has_audio(mine_out, seconds)
        report("bodycam", mine, clip.frames, mine_s, mine_audio)
        log(f"  bodycam review effort: {tracks} tracks = {tracks / (seconds / 60):.1f} per minute")
        if args.phases:
            phases(src, work / "phases.mp4", args.detect_every)

        theirs: Score | None = None
        theirs_s = 0.0
        if deface is not None:
            theirs_out = work / "deface-redacted.mp4"
            dcmd = [str(deface), str(src), "-o", str(theirs_out), "--keep-audio"]
            dcmd += ["--scale", "640x360"]
            theirs_s, _ = run_side("deface", dcmd, theirs_out)
            theirs = score_output(clip, theirs_out)
            report("deface", theirs, clip.frames, theirs_s, has_audio(theirs_out, seconds))

    mine_fps = clip.frames / mine_s
    if theirs is None:
        print(
            f"redact: FPS ratio n/a (bodycam {mine_fps:.1f} fps, deface skipped), "
            f"coverage {mine.coverage:.3f} vs n/a, flash frames {len(mine.flash_frames)} vs n/a"
        )
        return
    theirs_fps = clip.frames / theirs_s
    print(
        f"redact: FPS ratio {mine_fps / theirs_fps:.2f} (bodycam {mine_fps:.1f} fps, "
        f"deface {theirs_fps:.1f} fps), coverage {mine.coverage:.3f} vs {theirs.coverage:.3f}, "
        f"flash frames {len(mine.flash_frames)} vs {len(theirs.flash_frames)}"
    )


if __name__ == "__main__":
    main()
