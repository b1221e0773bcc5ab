# regopy's native library must load before any C++ extension (rapidfuzz, ...), else every
# embedded policy decision leaks native memory: see privacy/engines/native.py.
import regopy  # noqa: F401
