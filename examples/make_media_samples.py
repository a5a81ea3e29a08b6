"""Makes the starter library's header samples (services/templates/starter/media/), all drawn
here: a small PNG (a receipt-coloured card), a one-page PDF (an itinerary) and a one-second MP4
(H.264 baseline, moov first, as WhatsApp wants). `python examples/make_media_samples.py`
rewrites them; it needs PyAV and numpy (`pip install av numpy`), which wagate itself does not."""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy

HERE = Path(__file__).parents[1] / "services/templates/starter/media"


def png(width: int = 96, height: int = 64) -> bytes:
    """An 8-bit RGB PNG: a teal card with a white band, the kind of picture a receipt has."""
    rows = []
    for y in range(height):
        band = height // 3 <= y < 2 * height // 3
        pixel = b"\xff\xff\xff" if band else b"\x12\x8c\x7e"
        rows.append(b"\x00" + pixel * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def pdf(lines: tuple[str, ...] = ("Itinerary BK-7781", "Lisbon, 5 March", "Seat 12A")) -> bytes:
    """A one-page PDF with a few lines of Helvetica, its cross-reference table exact."""
    text = "BT /F1 18 Tf 72 720 Td " + " 0 -28 Td ".join(f"({line}) Tj" for line in lines)
    stream = (text + " ET").encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def mp4(path: Path, seconds: int = 1, fps: int = 10) -> None:
    """A short H.264 (baseline) MP4 of a colour sweep, moov before mdat."""
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"profile": "baseline", "crf": "30"}
        stream.codec_context.time_base = Fraction(1, fps)
        for index in range(seconds * fps):
            shade = int(255 * index / (seconds * fps))
            image = numpy.zeros((96, 160, 3), dtype=numpy.uint8)
            image[:, :, 0], image[:, :, 2] = shade, 255 - shade
            image[32:64, :, :] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


if __name__ == "__main__":
    (HERE / "receipt.png").write_bytes(png())
    (HERE / "itinerary.pdf").write_bytes(pdf())
    mp4(HERE / "loyalty.mp4")
