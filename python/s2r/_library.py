"""libs2r.so through ctypes: one call, s2r_convert_json() (include/s2r/s2r.h).

Why ctypes: the whole binding is one C function taking a struct of strings
and returning one JSON text, so the foreign surface is tiny and stable.
ctypes is in the standard library: nothing to compile against Python at
install time, and no dependency beyond Debian's python3 (python3-cffi
exists in Debian, but would add a build dependency for one call). A call
through ctypes.CDLL releases the GIL until the C function returns, so
threads convert in parallel; libs2r keeps no global mutable state and
converts each call in the "C" locale of its own thread.
"""
from __future__ import annotations

import ctypes
import json
import threading
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

# s2r_status values (core/plugin.h)
S2R_OK = 0
S2R_ENOMEM = -3

LIBRARY_PATH = Path(__file__).resolve().parent / "_native" / "lib" / "libs2r.so"


class ConvertRequest(ctypes.Structure):
    """s2r_convert_request of include/s2r/s2r.h, field for field."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("file", ctypes.c_char_p),
        ("script", ctypes.c_char_p),
        ("script_len", ctypes.c_size_t),
        ("format", ctypes.c_char_p),
        ("config_path", ctypes.c_char_p),
        ("submit_dir", ctypes.c_char_p),
    ]


_lock = threading.Lock()
_library: Optional[ctypes.CDLL] = None


def library() -> ctypes.CDLL:
    """libs2r.so of this package, loaded once (thread-safe)."""
    global _library
    with _lock:
        if _library is None:
            lib = ctypes.CDLL(str(LIBRARY_PATH))
            lib.s2r_convert_json.argtypes = [
                ctypes.POINTER(ctypes.c_void_p),
                ctypes.POINTER(ConvertRequest),
            ]
            lib.s2r_convert_json.restype = ctypes.c_int
            lib.s2r_free.argtypes = [ctypes.c_void_p]
            lib.s2r_free.restype = None
            _library = lib
        return _library


def convert_json(
    file: bytes,
    script: bytes,
    format: Optional[bytes],
    config_path: Optional[bytes],
    submit_dir: Optional[bytes],
) -> Tuple[int, Dict[str, Any]]:
    """Call s2r_convert_json(); return its status and its document.

    Strings in the document that are not UTF-8 (bytes of the script) come
    back with surrogate escapes, so ``text.encode("utf-8",
    "surrogateescape")`` gives the exact bytes.
    Raises MemoryError when libs2r runs out of memory.
    """
    lib = library()
    request = ConvertRequest(
        ctypes.sizeof(ConvertRequest), file, script, len(script), format,
        config_path, submit_dir)
    document = ctypes.c_void_p()
    status = lib.s2r_convert_json(ctypes.byref(document), ctypes.byref(request))
    if not document.value:
        raise MemoryError("libs2r: out of memory" if status == S2R_ENOMEM
                          else f"libs2r: s2r_convert_json returned {status}")
    try:
        text = ctypes.string_at(document.value)
    finally:
        lib.s2r_free(document)
    return status, json.loads(text.decode("utf-8", "surrogateescape"))
