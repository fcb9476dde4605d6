"""The ``megc2019`` pipeline: the MEGC 2019 composite (SMIC-HS + CASME II + SAMM), its
leave-one-subject-out benchmark and the cross-database protocols."""

from microexpression_pipeline.pipelines.megc2019.pipeline import create_pipeline

__all__ = ["create_pipeline"]
