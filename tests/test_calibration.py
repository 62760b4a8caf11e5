"""Calibration capture quality, profiles on disk, and the calibrate / profile commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from calibration.capture import CaptureRejected, build_baseline
from calibration.profiles import ProfileStore
from posture.cli import main
from posture.errors import ConfigError
from posture.metrics import METRIC_NAMES, MetricSet

from footage import SLOUCH, slouch_frames


def obs(head: float = 0.6, x: float = 0.5, conf: float = 0.95) -> MetricSet:
    values: dict[str, float | None] = dict.fromkeys(METRIC_NAMES)
    values.update(head_height=head, face_scale=0.42, head_roll_deg=0.5, shoulder_tilt_deg=1.0,
                  lateral_offset=0.0, screen_distance=50.0)
    return MetricSet(values, {k: conf for k in METRIC_NAMES if values[k] is not None}, "front", (x, 0.75, 0.3))


def test_steady_capture_gives_median_and_mad() -> None:
    rng = np.random.default_rng(0)
    heights = 0.6 + rng.normal(0, 0.005, 20)
    baseline, quality = build_baseline([obs(h) for h in heights])
    stat = baseline.stats["head_height"]
    assert stat.median == pytest.approx(float(np.median(heights)))
    assert stat.mad == pytest.approx(float(np.median(np.abs(heights - np.median(heights)))))
    assert quality.present == 20 and quality.verdict in ("excellent", "good")


@pytest.mark.parametrize("observations, reason", [
    ([None] * 10, "nobody was in view"),
    ([obs()] * 6 + [None] * 6, "out of view 50%"),
    ([obs(x=0.5 + 0.1 * (i % 2)) for i in range(12)], "moved too much"),
    ([obs(head=0.5 + 0.05 * (i % 3)) for i in range(12)], "moved too much"),
    ([obs(conf=0.3) for _ in range(12)], "landmarks were unreliable"),
    ([obs(), obs()], "only 2 usable samples"),
])
def test_bad_captures_are_rejected_with_the_reason(observations: list[MetricSet | None], reason: str) -> None:
    with pytest.raises(CaptureRejected, match=reason):
        build_baseline(observations)


def test_profiles_save_list_use_delete(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    base, _ = build_baseline([obs() for _ in range(8)])
    store.save("Laptop screen", base)
    store.save("desk monitor", base)
    store.set_active("desk monitor")
    assert store.names() == ["desk monitor", "Laptop screen"]  # by name, ignoring case
    assert store.active_name() == "desk monitor"
    loaded = store.load("Laptop screen")
    assert loaded.baseline.stats["head_height"].median == pytest.approx(0.6)
    doc = json.loads((tmp_path / "laptop-screen.json").read_text())
    assert doc["version"] == 1
    store.delete("desk monitor")
    assert store.active_name() is None
    with pytest.raises(ConfigError, match="no profile named 'desk monitor'"):
        store.load("desk monitor")


def test_corrupt_profile_is_reported_and_nothing_else_is_lost(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    base, _ = build_baseline([obs() for _ in range(8)])
    store.save("good", base)
    store.save("broken", base)
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1, "name": "broken", "baseline": {"view": "front", "stats": ')
    with pytest.raises(ConfigError, match=r"broken\.json is corrupt"):
        store.load("broken")
    assert store.load("good").name == "good"
    assert "broken (corrupt)" in store.names()
    assert broken.read_text().startswith('{"version": 1')  # never rewritten behind the user's back
    (tmp_path / "weird.json").write_text(json.dumps({"version": 1, "name": "weird", "baseline": {"view": "up"}}))
    with pytest.raises(ConfigError, match="invalid"):
        store.load("weird")


def test_calibrate_command_on_real_frames_then_analyze_with_profile(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    up, down = slouch_frames()
    # A user who keeps slumping and sitting up during the capture: rejected, with the reason.
    fidget = tmp_path / "fidget"
    fidget.mkdir()
    for i in range(5):
        (fidget / f"{2 * i:02d}.jpg").symlink_to(up[i])
        (fidget / f"{2 * i + 1:02d}.jpg").symlink_to(down[i])
    assert main(["calibrate", "--source", str(fidget), "--profile", "desk monitor", "--seconds", "9"]) == 2
    assert "moved too much" in capsys.readouterr().err
    # This user slides sideways after ~6 s (also rejected); the first five seconds are steady.
    rc = main(["calibrate", "--source", str(SLOUCH / "upright"), "--profile", "desk monitor", "--seconds", "5"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "Sit upright" in out and "saved profile 'desk monitor'" in out and "(active)" in out
    assert main(["profile", "list"]) == 0
    assert "* desk monitor" in capsys.readouterr().out
    assert main(["profile", "show", "desk monitor"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert 0.55 < shown["baseline"]["stats"]["head_height"]["median"] < 0.7
    # The light it was taken in is recorded, as the wizard records it (recalibration advice, poor-light lines).
    assert shown["baseline"]["meta"]["poor_light"] is False and shown["baseline"]["meta"]["brightness"] > 45
    assert main(["analyze", str(SLOUCH / "slouched"), "--profile", "desk monitor", "--quiet"]) == 0
    assert main(["profile", "delete", "desk monitor"]) == 0


def test_calibrate_rejects_an_empty_scene(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import cv2

    for i in range(6):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((240, 320, 3), 40 + i, np.uint8))
    rc = main(["calibrate", "--source", str(tmp_path), "--seconds", "6"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip().count("\n") == 0 and "calibration rejected" in err and "nobody was in view" in err


def test_calibrate_command_records_a_capture_taken_in_poor_light(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same upright stills under the conditions suite's evening lamp: the profile says poor light, so a
    later session by day allows for the lamp's reading shift (posture.light_shift)."""
    import cv2

    from posture.conditions import dim_noisy
    from posture.preprocess import frame_quality

    up, _ = slouch_frames()
    daylight = float(np.median([frame_quality(cv2.imread(str(p))).brightness for p in up[:5]]))
    for i, p in enumerate(up[:5]):
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), dim_noisy(cv2.imread(str(p)), i))
    rc = main(["calibrate", "--source", str(tmp_path), "--profile", "evening", "--seconds", "5"])
    assert rc == 0, capsys.readouterr()
    capsys.readouterr()
    assert main(["profile", "show", "evening"]) == 0
    meta = json.loads(capsys.readouterr().out)["baseline"]["meta"]
    assert meta["poor_light"] is True and meta["brightness"] < daylight
    assert main(["profile", "delete", "evening"]) == 0
