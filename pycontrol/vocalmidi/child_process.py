"""Ending the helper programs we start (jackd, Xvfb, jalv, the Standalone)."""

from __future__ import annotations

import signal
import subprocess

__all__ = ["end_child"]


def end_child(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Send ``sig`` and wait up to ``timeout`` seconds, then kill; always reaps the child."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
