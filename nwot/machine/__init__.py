"""Machine-dependent choices, measured at run time: devices, allocator tuning."""
