"""Memory figures of the current process, shared by the two benchmark workers."""
import resource


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss), MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vmhwm_mb():
    """Peak RSS of this process's memory map from /proc (Linux), a cross-check of ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            return next(int(ln.split()[1]) / 1024 for ln in f if ln.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None
