"""Camera-coached breaks: movement signals from pose landmarks, repetition detection, coaching and
range of motion. Pure core code: no Qt, no camera loop of its own (callers feed it poses)."""
