/* empty.c: libs2r.so is made of the converter layers alone (their
 * archives are linked whole); a shared library target needs a source. */
typedef int s2r_empty_translation_unit;
