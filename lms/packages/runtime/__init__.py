"""The package player's server side (issue 25): learners' attempts on package items and their CMI data
(``models``), the pure checks of what a package may store (``cmi``), recording commits and the launch
data of a new or resumed attempt (``services``), signed package-file URLs (``file_links``) and the
trainer's report (``queries``). See docs/packages.md, "Player and runtime"."""
