"""The sandbox's last step, run by the kernel itself when it is bound: call
sbx_seal() from libdaasbx.so (path in $DAA_SBX_LIB) through ctypes, before any
user code.  A seal layer that is missing fails closed unless the bind request
allows it.  DAA_KERNEL_UNSANDBOXED=1 (tests and development only; the daemon
never sets it) skips the seal and says so in the layer report."""

import ctypes
import os

REPORT_LEN = 4096
_BAD_WORDS = ("missing", "failed", "unavailable", "error", "disabled", "not ")  # as daemon/kern_req.c


def parse_report(text):
    """'landlock: active (ABI 3)\\nseccomp: active' -> {layer: state}."""
    layers = {}
    for line in text.splitlines():
        name, sep, state = line.partition(":")
        if sep and name.strip():
            layers[name.strip()] = state.strip()
    return layers


def _missing(layers):
    """Layers whose state is not active (by the words the report uses)."""
    return [k for k, v in layers.items() if v.lower().startswith(_BAD_WORDS)]


def _load(path):
    """Load libdaasbx.so and return its sbx_seal with a checked signature."""
    lib = ctypes.CDLL(path)
    fn = lib.sbx_seal
    fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


def seal(project, tmp, landlock=True, allow_missing=False):
    """Lock this process down to project (Landlock, when landlock is true;
    else it was applied at spawn) and forbid execve.
    Returns (ok, layers, message): ok false means the bind must be refused."""
    if os.environ.get("DAA_KERNEL_UNSANDBOXED") == "1":
        return True, {"seal": "missing (test mode: DAA_KERNEL_UNSANDBOXED=1)"}, ""
    path = os.environ.get("DAA_SBX_LIB", "")
    why = None
    if not path:
        why = "DAA_SBX_LIB is not set (the daemon passes the path of libdaasbx.so)"
    elif not os.path.isfile(path):
        why = "%s not found (build it with `make`)" % path
    if why is None:
        try:
            fn = _load(path)
        except (OSError, AttributeError) as e:
            why = "cannot load %s: %s" % (path, e)
    if why is not None:
        return allow_missing, {"seal": "missing: " + why}, "sandbox seal unavailable: " + why
    if allow_missing:   # the library then applies every layer it can, skipping the rest
        os.environ["DAA_SBX_ALLOW_MISSING"] = "1"
    buf = ctypes.create_string_buffer(REPORT_LEN)
    rc = fn(os.fsencode(project) if landlock else None, os.fsencode(tmp), buf, REPORT_LEN)
    report = buf.value.decode("utf-8", "replace")
    layers = parse_report(report) or {"seal": report or "no report"}
    if rc != 0:
        return allow_missing, layers, "sandbox seal failed: " + (report or "no report")
    bad = _missing(layers)
    if bad and not allow_missing:
        return False, layers, "sandbox layer(s) missing: " + "; ".join(
            "%s: %s" % (k, layers[k]) for k in bad)
    return True, layers, ""
