"""Validation must give the PixTools API's verdicts and texts."""

import pytest

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.ops import validate_request, validate_webhook_url


def detail(*args, **kw) -> str:
    with pytest.raises(ValidationError) as exc:
        validate_request(*args, **kw)
    assert exc.value.status_code == 422
    return exc.value.detail


def test_valid_request_normalises_params_and_drops_unrequested_ops():
    req = validate_request(
        '["webp","denoise","metadata"]',
        '{"webp":{"quality":"80"},"denoise":{"resize":{"width":1280}},"png":{"quality":5}}',
        "a.jpg",
    )
    assert [o.value for o in req.operations] == ["webp", "denoise", "metadata"]
    assert req.params == {"webp": {"quality": 80}, "denoise": {"resize": {"width": 1280}}}


@pytest.mark.parametrize(
    "ops,params,name,expected",
    [
        ('["sepia"]', None, "a.jpg", "Invalid operations: 'sepia' is not a valid OperationType"),
        ("[]", None, "a.jpg", "At least one operation is required"),
        ("not json", None, "a.jpg", "Invalid operations: Expecting value: line 1 column 1 (char 0)"),
        (
            '["png"]',
            '{"png":{"quality":50}}',
            "a.jpg",
            "operation_params['png'].quality is only supported for jpg/webp",
        ),
        ('["jpg"]', '{"jpg":{"quality":0}}', "a.png", "operation_params['jpg'].quality must be 1..100"),
        ('["jpg"]', '{"jpg":{"quality":"x"}}', "a.png", "operation_params['jpg'].quality must be an integer"),
        ('["jpg"]', '{"jpg":{"resize":{}}}', "a.png", "operation_params['jpg'].resize requires width or height"),
        ('["jpg"]', '{"jpg":{"resize":{"width":-1}}}', "a.png", "operation_params['jpg'].resize.width must be > 0"),
        ('["jpg"]', '{"jpg":5}', "a.png", "operation_params['jpg'] must be an object"),
        ('["jpg"]', "[1]", "a.png", "operation_params must be a JSON object"),
        (
            '["metadata"]',
            '{"metadata":{"resize":{"width":5}}}',
            "a.png",
            "operation_params['metadata'].resize is only supported for jpg/png/webp/avif/denoise/tiff",
        ),
    ],
)
def test_api_error_texts(ops, params, name, expected):
    assert detail(ops, params, name) == expected


def test_tiff_is_desktop_only():
    assert validate_request(["tiff"], None, "a.jpg").operations[0].value == "tiff"
    assert (
        detail(["tiff"], None, "a.jpg", api_compatible=True)
        == "Invalid operations: 'tiff' is not a valid OperationType"
    )


def test_metadata_and_denoise_never_count_as_same_format():
    validate_request(["denoise", "metadata"], None, "a.png")


def test_webhook_url_must_be_absolute_http():
    assert validate_webhook_url("https://example.org/hook") == "https://example.org/hook"
    for bad in ("ftp://x/y", "/relative", "http://"):
        with pytest.raises(ValidationError, match="webhook_url must be a valid http"):
            validate_webhook_url(bad)


def test_denoise_desktop_extras():
    req = validate_request(["denoise"], {"denoise": {"format": "tiff", "mode": "max", "strength": 0.5}}, "a.png")
    assert req.params["denoise"] == {"format": "tiff", "mode": "max", "strength": 0.5}
    assert (
        detail(["denoise"], {"denoise": {"strength": 2}}, "a.png")
        == "operation_params['denoise'].strength must be 0..1"
    )
