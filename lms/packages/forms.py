"""Forms of the package pages: the zip upload (a new package or a new version)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class PackageUploadForm(FlaskForm):
    file = FileField(
        _l("SCORM package (zip with imsmanifest.xml)"),
        validators=[FileRequired(message=_l("Choose a zip file to upload."))],
    )
