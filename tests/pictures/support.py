"""Helpers for picture tests: a big synthetic map, and reading a drawn canvas back."""

from __future__ import annotations

import io
import random

from handlers.pictures import style
from handlers.pictures.canvas import Canvas
from handlers.pictures.strategy import BandSpec, BoxSpec, MapSpec

STATUSES = ("green", "yellow", "red", "nodata")


def big_map(objectives: int = 30, links: int = 40, seed: int = 7) -> MapSpec:
    """A 4-band map with long, Cyrillic and emoji names and links going up (and some skipping)."""
    rng = random.Random(seed)
    names = [
        "Grow profit",
        "Рост выручки от статей",
        "Attract prospects interested in the topic and keep them reading 🚀",
        "Обучение менеджеров и поддержки",
        "A/B testing of hypotheses",
    ]
    per_band = [objectives // 4 + (1 if i < objectives % 4 else 0) for i in range(4)]
    bands = []
    keys: list[list[str]] = []
    n = 0
    for b, count in enumerate(per_band):
        boxes = []
        for _ in range(count):
            key = f"o{n}"
            boxes.append(
                BoxSpec(
                    key, f"{names[n % len(names)]} {n}", f"{rng.randint(0, 100)}%", STATUSES[n % 4]
                )
            )
            n += 1
        keys.append([box.key for box in boxes])
        bands.append(
            BandSpec(
                ["Finance", "Клиенты", "Processes", "Learning"][b],
                "50%",
                STATUSES[b],
                tuple(boxes),
            )
        )
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < links:
        low = rng.randint(1, 3)
        high = rng.randint(0, low - 1) if rng.random() < 0.8 else low
        cause, effect = rng.choice(keys[low]), rng.choice(keys[high])
        if cause != effect:
            pairs.add((cause, effect))
    return MapSpec(
        title="Strategy map · index 50%",
        bands=tuple(bands),
        links=tuple(sorted(pairs)),
        words=style.status_words(),
    )


def decode(png: bytes) -> tuple[int, int]:
    """The PNG's pixel size (PIL decodes it fully)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.size


def drawn_texts(canvas: Canvas) -> list[str]:
    """Every text drawn on the canvas, line breaks as spaces."""
    return [" ".join(d.text.split()) for d in canvas.record if d.kind == "text" and d.text]
