"""Allocators of the inference world, one per file (role ``inference_allocator``)."""
