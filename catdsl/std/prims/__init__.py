"""Primitives added one file each: every module here defines `SPEC`, a `PrimSpec` that holds the
primitive's signature, defaults, documentation and numpy kernel (forward and VJP).

The standard library's table (`catdsl.std.library.PRIMITIVES`) picks up every module of this
package, so adding a primitive is one new file here plus its test; the primitive table of
docs/language.md is generated from the specs (`python -m catdsl.std.doc_tables`).
"""
