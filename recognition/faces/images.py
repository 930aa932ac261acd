"""Enrolment photos as RGB arrays, refused with a reason before anything large is decoded.

The size of the file and the pixel count in its header are checked before decoding (a
small file can declare a huge picture); a picture that uses transparency is refused,
because the colour under a transparent pixel is undefined (often black or garbage), and
an alpha channel that is opaque everywhere is dropped. The EXIF orientation is applied,
since the HOG detector finds upright faces only. Raises ``FaceImageRejected``.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from gate.domain.errors import FaceImageRejected

MAX_PHOTO_BYTES = 20 * 1024 * 1024  # a phone's full-size JPEG is 3-8 MB
MAX_PHOTO_PIXELS = 50_000_000  # 50 MP: a phone's largest; decoded it is 150 MB of RGB


def read_photo(
    data: bytes, *, max_bytes: int = MAX_PHOTO_BYTES, max_pixels: int = MAX_PHOTO_PIXELS
) -> npt.NDArray[np.uint8]:
    """The photo in ``data`` (an image file's bytes) as an upright RGB array."""
    if len(data) > max_bytes:
        raise FaceImageRejected(
            "too_large",
            f"the photo is {len(data)} bytes, more than {max_bytes}",
            bytes=len(data),
            limit=max_bytes,
        )
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns past 89 MP; ours, below, refuses first.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise FaceImageRejected("not_an_image", "the file is not a picture") from exc
    width, height = image.size
    if width * height > max_pixels:
        raise FaceImageRejected(
            "too_many_pixels",
            f"the photo is {width} x {height} pixels, more than {max_pixels}",
            pixels=width * height,
            limit=max_pixels,
        )
    try:
        image.load()
        rgb = _opaque_rgb(ImageOps.exif_transpose(image))
    except FaceImageRejected:
        raise
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow's truncated or damaged data
        raise FaceImageRejected("damaged", f"the picture cannot be decoded: {exc}") from exc
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def _opaque_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in {"RGBA", "LA", "PA", "RGBa", "La"}:
        low, _high = image.getchannel("A").getextrema()
        if int(low) < 255:  # type: ignore[arg-type]
            raise FaceImageRejected(
                "alpha_channel", "the photo has transparent pixels; send one without"
            )
    return image.convert("RGB") if image.mode != "RGB" else image
