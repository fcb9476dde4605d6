"""Facial motion: dense optical flow, optical strain, flow images and video magnification.

Shared by the ``features`` pipeline (flow of the ingested clips), the ``augmentation``
pipeline (flow of the augmented copies) and ingestion (optional magnification).
"""
