"""The Qt-free, torch-free heart of PixTools: jobs, validation, imaging, store, engine."""
