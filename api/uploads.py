"""Stage 2 at the edge: an uploaded document is checked (size, and that the bytes are what they
claim to be), kept in the blob store and referenced in the store.

Images are identified from their header only and never decoded here: decoding is the vision
worker's job, and a decompression bomb must be refused unopened."""

from __future__ import annotations

import asyncio
import io
import warnings
from enum import StrEnum
from typing import IO

from fastapi import UploadFile
from PIL import Image, UnidentifiedImageError

from api.deps import Services
from api.errors import (
    ImageTooLarge,
    InvalidRequest,
    TooLarge,
    Unprocessable,
    UnsupportedMedia,
    WrongStage,
)
from api.live import live_or_recorded
from domain.enums import APPLICANT_DOCUMENTS, ApplicationStatus, DocumentKind
from domain.identity import DocumentRef
from store import queries

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
# Top-level atoms a QuickTime file may open with when it has no `ftyp` box.
QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip"}


class UploadKind(StrEnum):
    """The documents an applicant uploads (the others are produced by the platform)."""

    ID_FRONT = DocumentKind.ID_FRONT.value
    ID_BACK = DocumentKind.ID_BACK.value
    SELFIE = DocumentKind.SELFIE.value
    LIVENESS_VIDEO = DocumentKind.LIVENESS_VIDEO.value

    @property
    def is_video(self) -> bool:
        return self is UploadKind.LIVENESS_VIDEO


def spooled(upload: UploadFile, limit: int) -> tuple[IO[bytes], int]:
    """The upload's file (Starlette has spooled it to disk past 1 MiB) at its start, and its
    size; refuses anything over `limit` or empty. Nothing is read whole into memory."""
    if upload.size is not None and upload.size > limit:
        raise TooLarge(f"at most {limit} bytes", limit=limit)
    source = upload.file
    size = source.seek(0, io.SEEK_END)
    if size > limit:
        raise TooLarge(f"at most {limit} bytes", limit=limit)
    if size == 0:
        raise InvalidRequest("the file is empty")
    source.seek(0)
    return source, size


def image_content_type(source: IO[bytes], max_pixels: int) -> str:
    """`image/jpeg` or `image/png` when the header is one PIL reads and the pixel count is
    within `max_pixels`; raises otherwise. Leaves `source` at its start."""
    head = source.read(len(PNG_MAGIC))
    source.seek(0)
    if not (head.startswith(PNG_MAGIC) or head.startswith(JPEG_MAGIC)):
        raise UnsupportedMedia("not_an_image", "only JPEG and PNG images are accepted")
    try:
        with warnings.catch_warnings():
            # PIL warns (then errors) on huge headers; both mean the same thing here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=("JPEG", "PNG")) as image:
                fmt, (width, height) = image.format, image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnsupportedMedia("not_an_image", "the image header cannot be read") from None
    finally:
        source.seek(0)
    if width <= 0 or height <= 0:
        raise UnsupportedMedia("not_an_image", "the image has no pixels")
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    return "image/png" if fmt == "PNG" else "image/jpeg"


def _too_many_pixels(max_pixels: int) -> ImageTooLarge:
    return ImageTooLarge(f"at most {max_pixels} pixels", max_pixels=max_pixels)


def video_content_type(source: IO[bytes]) -> str:
    """MP4, QuickTime or WebM by their magic bytes; the vision worker decodes the stream."""
    head = source.read(64)
    source.seek(0)
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head[4:8] in QUICKTIME_ATOMS:
        return "video/quicktime"
    if head.startswith(EBML_MAGIC) and b"webm" in head:
        return "video/webm"
    raise UnsupportedMedia("not_a_video", "only MP4, MOV and WebM videos are accepted")


UPLOAD_STAGES = frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.AWAITING_DOCUMENTS})


async def store_upload(
    services: Services, application_id: str, kind: UploadKind, upload: UploadFile
) -> DocumentRef:
    """Check one upload, keep its bytes in the blob store and its reference in the store.

    SUBMITTED is accepted as well as AWAITING_DOCUMENTS: the pre-screen runs for a moment after
    the start, and an app that uploads at once should not be turned away for it. Submitting
    still waits for AWAITING_DOCUMENTS (the workflow's validator decides)."""
    settings = services.settings
    # With no worker answering, the recorded stage decides; the upload waits in the blob store
    # and the store until the applicant submits, which hands it to the workflow.
    view = await live_or_recorded(services.workflows, services.engine, application_id)
    status = ApplicationStatus(view.status)
    if status not in UPLOAD_STAGES:
        raise WrongStage("documents are not being collected", status=status)
    if kind.is_video:
        source, size = spooled(upload, settings.max_video_bytes)
        content_type = video_content_type(source)
    else:
        source, size = spooled(upload, settings.max_image_bytes)
        content_type = await asyncio.to_thread(
            image_content_type, source, settings.max_image_pixels
        )
    key, sha256 = await asyncio.to_thread(
        services.blobs.put_stream, f"documents/{application_id}/{kind.value}", source
    )
    ref = DocumentRef(
        kind=DocumentKind(kind.value),
        blob_key=key,
        sha256=sha256,
        size=size,
        content_type=content_type,
    )
    await queries.in_thread(services.engine, queries.upsert_document, application_id, ref)
    return ref


async def uploaded_documents(services: Services, application_id: str) -> list[DocumentRef]:
    """The four applicant documents, in order; 422 naming any that were never uploaded."""
    refs = await queries.in_thread(services.engine, queries.document_refs, application_id)
    missing = [kind.value for kind in APPLICANT_DOCUMENTS if kind not in refs]
    if missing:
        raise Unprocessable("missing_documents", "upload every document first", missing=missing)
    return [refs[kind] for kind in APPLICANT_DOCUMENTS]
