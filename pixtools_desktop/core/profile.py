"""Two semantics, one engine: the desktop profile and the PixTools API profile.

The PixTools API (upstream `NFRohan/PixTools`) has rules a web service needs
and a photo tool does not: a conversion to the source's own format is refused,
resize gives exactly the box asked (enlarging, even distorting) but caps each
given side at 1920x1080, metadata lists only the keys found, and outputs carry
no EXIF. Those rules hold wherever the API is spoken — `pixtools serve` and the
remote backend's local precheck — and nowhere else. Locally the engine does
what a photo tool does: a same-format op re-encodes, resize fits within the
box and never enlarges unless asked, metadata keeps its full form, EXIF is
kept unless the user strips it.

One `Profile` value says which; it is chosen in one place per front end:
`DESKTOP` is the default of every validator and job, and `api_profile(settings)`
is what `serve` and the remote precheck use. A job records its profile's name
in `OutputOptions.profile`; the engine resolves it with `profile_for(name,
settings)`, so a job run in a worker process gets the same rules.

Both profiles truncate computed sides as upstream does (`int()`): measured on
CBSD68 and the camera JPEGs, the rounding we used before differed by one pixel
on the computed side and bought nothing a person can see, while matching
upstream makes a job give the same size locally and remotely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixtools_desktop.core.settings import Settings

DESKTOP_NAME = "desktop"
API_NAME = "api"
API_SIZE_CAP = (1920, 1080)  # upstream's max_image_width / max_image_height
API_MAX_UPLOAD_MB = 10  # upstream's upload limit: `serve`'s default and the remote precheck's


@dataclass(frozen=True)
class Profile:
    """The rules the engine and the validators apply for one kind of front end."""

    name: str
    refuse_same_format: bool  # API: "Cannot convert png to png - ..." (422)
    api_operations_only: bool  # API: no tiff, no denoise extras, no resize.enlarge
    fit_within_box: bool  # desktop: both sides given = a box the image fits in (aspect kept)
    enlarge_by_default: bool  # API: always; desktop: only with resize.enlarge = true
    size_cap: tuple[int, int] | None  # API: each given side capped (width, height); None: no cap
    api_metadata_shape: bool  # API: absent keys omitted, GPS rounded to 6 decimals
    keep_exif: bool  # False: EXIF/XMP stripped from every output whatever the job says (ICC kept)

    @property
    def is_api(self) -> bool:
        return self.name == API_NAME


DESKTOP = Profile(
    name=DESKTOP_NAME,
    refuse_same_format=False,
    api_operations_only=False,
    fit_within_box=True,
    enlarge_by_default=False,
    size_cap=None,
    api_metadata_shape=False,
    keep_exif=True,
)

# The API exactly as upstream (cap on, EXIF stripped): what the remote precheck
# expects of any PixTools server, and what `serve` is unless its operator says otherwise.
API = Profile(
    name=API_NAME,
    refuse_same_format=True,
    api_operations_only=True,
    fit_within_box=False,
    enlarge_by_default=True,
    size_cap=API_SIZE_CAP,
    api_metadata_shape=True,
    keep_exif=False,
)


def api_profile(settings: Settings | None = None) -> Profile:
    """The API profile with this operator's choices (`serve_size_cap`, `serve_keep_exif`)."""
    if settings is None:
        return API
    return Profile(
        name=API_NAME,
        refuse_same_format=True,
        api_operations_only=True,
        fit_within_box=False,
        enlarge_by_default=True,
        size_cap=API_SIZE_CAP if settings.serve_size_cap else None,
        api_metadata_shape=True,
        keep_exif=settings.serve_keep_exif,
    )


def profile_for(name: str | None, settings: Settings | None = None) -> Profile:
    """The profile a job named (`OutputOptions.profile`); unknown or missing names are the desktop's."""
    if name == API_NAME:
        return api_profile(settings)
    return DESKTOP
