#!/usr/bin/env python3
"""Draws the demo's pictures (all but the seed article's photograph, which
is a real one): simple painted scenes, at the sizes and in the formats the
demo content declares, small enough to ship inside the binary.

They are committed; run this again only to change them:

    python3 src/seed/media/generate.py     # needs Pillow (pip install pillow)

Each picture is drawn from its name alone, so a run makes the same files.
"""

import json
import math
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "demo.json")
SHIPPED_ALREADY = {"/media/2023/11/2147034_dsc_0597_11282810.jpg"}


def mix(a, b, t):
    return tuple(int(a[i] + (b[i] - a[i]) * t) for i in range(3))


def gradient(size, top, bottom):
    w, h = size
    column = Image.new("RGB", (1, h))
    for y in range(h):
        column.putpixel((0, y), mix(top, bottom, y / max(1, h - 1)))
    return column.resize((w, h))


def scene(name, w, h):
    """Sky, sun, hills, a row of buildings and figures: a landscape photo's
    broad shapes and soft edges."""
    rnd = random.Random(name)
    sky_top = (rnd.randint(40, 120), rnd.randint(110, 170), rnd.randint(190, 240))
    sky_low = (rnd.randint(200, 250), rnd.randint(190, 230), rnd.randint(160, 210))
    img = gradient((w, h), sky_top, sky_low)
    d = ImageDraw.Draw(img)
    sx, sy, sr = rnd.uniform(0.1, 0.9) * w, rnd.uniform(0.1, 0.3) * h, 0.06 * min(w, h)
    d.ellipse([sx - sr, sy - sr, sx + sr, sy + sr], fill=(255, 236, 180))
    for layer in range(3):
        base = h * (0.45 + 0.12 * layer)
        amp = h * rnd.uniform(0.03, 0.08)
        freq = rnd.uniform(1.0, 3.0)
        phase = rnd.uniform(0, math.tau)
        colour = mix((60, 120, 70), (30, 70, 40), layer / 2)
        colour = tuple(max(0, c + rnd.randint(-20, 20)) for c in colour)
        points = [(x, base + amp * math.sin(phase + freq * math.tau * x / w)) for x in range(0, w + 8, 8)]
        d.polygon(points + [(w, h), (0, h)], fill=colour)
    ground = h * 0.78
    x = 0.0
    while x < w:
        bw = rnd.uniform(0.04, 0.1) * w
        bh = rnd.uniform(0.08, 0.25) * h
        shade = rnd.randint(150, 230)
        d.rectangle([x, ground - bh, x + bw - 4, ground], fill=(shade, shade - 20, shade - 40))
        for wy in range(int(ground - bh + 12), int(ground - 10), 22):
            for wx in range(int(x + 8), int(x + bw - 16), 20):
                d.rectangle([wx, wy, wx + 8, wy + 10], fill=(90, 110, 140))
        x += bw
    d.rectangle([0, ground, w, h], fill=(120, 110, 95))
    for _ in range(rnd.randint(6, 14)):
        px, py = rnd.uniform(0.05, 0.95) * w, ground + rnd.uniform(0.03, 0.15) * h
        s = h * rnd.uniform(0.05, 0.09)
        shirt = (rnd.randint(30, 230), rnd.randint(30, 230), rnd.randint(30, 230))
        d.ellipse([px - s * 0.18, py - s, px + s * 0.18, py - s * 0.64], fill=(225, 185, 150))
        d.rounded_rectangle([px - s * 0.3, py - s * 0.62, px + s * 0.3, py], radius=int(s * 0.1), fill=shirt)
    return img.filter(ImageFilter.GaussianBlur(1.5))


def infographic(name, w, h):
    """Flat colours, bars and circles: a chart, as editors' graphics are."""
    rnd = random.Random(name)
    img = Image.new("RGB", (w, h), (250, 246, 238))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, h * 0.12], fill=(230, 90, 60))
    palette = [(240, 180, 60), (110, 180, 90), (80, 150, 210), (210, 100, 140)]
    for i, colour in enumerate(palette):
        top = h * (0.16 + 0.2 * i)
        r = w * 0.11
        d.ellipse([w * 0.08, top, w * 0.08 + 2 * r, top + 2 * r], fill=colour)
        for j in range(3):
            length = w * rnd.uniform(0.25, 0.55)
            y = top + r * 0.4 + j * r * 0.55
            d.rounded_rectangle([w * 0.38, y, w * 0.38 + length, y + r * 0.3], radius=int(r * 0.15), fill=colour)
    d.rectangle([0, h * 0.95, w, h], fill=(60, 60, 70))
    return img.quantize(16)


def avatar(name, size=400):
    """A head-and-shoulders silhouette on a colour of its own."""
    rnd = random.Random(name)
    back = (rnd.randint(120, 220), rnd.randint(120, 220), rnd.randint(120, 220))
    img = gradient((size, size), back, mix(back, (40, 40, 50), 0.5))
    d = ImageDraw.Draw(img)
    skin = rnd.choice([(236, 198, 165), (214, 170, 130), (190, 145, 110)])
    hair = rnd.choice([(30, 25, 20), (70, 50, 35), (110, 90, 70)])
    shirt = (rnd.randint(20, 200), rnd.randint(20, 200), rnd.randint(20, 200))
    d.ellipse([size * 0.16, size * 0.68, size * 0.84, size * 1.3], fill=shirt)
    d.ellipse([size * 0.3, size * 0.16, size * 0.7, size * 0.64], fill=hair)
    d.ellipse([size * 0.33, size * 0.24, size * 0.67, size * 0.66], fill=skin)
    return img.filter(ImageFilter.GaussianBlur(1.2))


def save(img, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ext = path.rsplit(".", 1)[1]
    if ext == "jpg":
        img.save(path, "JPEG", quality=72, optimize=True, progressive=True)
    elif ext == "webp":
        img.save(path, "WEBP", quality=70, method=6)
    else:
        img.save(path, "PNG", optimize=True)
    print(f"{os.path.relpath(path, HERE)}: {img.size[0]}x{img.size[1]}, {os.path.getsize(path) // 1024} KB")


def main():
    demo = json.load(open(DEMO, encoding="utf-8"))
    for m in demo["media"]:
        if m["url"] in SHIPPED_ALREADY:
            continue
        w, h = m["width"], m["height"]
        file = m["url"].rsplit("/", 1)[1]
        img = infographic(file, w, h) if file.endswith(".png") else scene(file, w, h)
        save(img, os.path.join(HERE, file))
    for a in demo["authors"]:
        if a.get("avatar_url"):
            save(avatar(a["slug"]), os.path.join(HERE, "authors", a["avatar_url"].rsplit("/", 1)[1]))


if __name__ == "__main__":
    sys.exit(main())
