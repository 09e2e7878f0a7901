"""SCORM 1.2 and SCORM 2004 packages as activities of a module (issue 25): safe import, the manifest,
storage per version, the player and its runtime data. See docs/packages.md."""
