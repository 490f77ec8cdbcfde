"""daakernel: the pieces of daa's Python kernel runtime (see sandbox/KERNEL.md).

daa_kernel.py is the entry point; these modules hold the work it delegates:
wire (msgpack framing on the daemon's socket), warm (heavy imports of the warm
spare), seal (the sandbox's last lock-down step through ctypes), datasets
(lazy `dfs` loader honouring the project's conventions), capture (capped
stdout/stderr), preview (msgpack-safe values and DataFrame previews), figures
(matplotlib figures saved as files), runner (the `exec` request) and
profiling (the `profile` request).
"""
