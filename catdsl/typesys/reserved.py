"""Names the language itself defines, apart from the standard-library primitives and the
training families (whose registry the checker is given): functors and initialisers."""

from __future__ import annotations

FUNCTORS = ("List", "Option")
INITIALISERS = ("zeros", "ones", "normal", "uniform", "course_init")
