"""Schema of the ``synthetic`` parameter section (conf/base/parameters_synthetic.yml).

The model lives with the generator, which validates the same settings when called directly.
"""

from microexpression_pipeline.synthetic.settings import SyntheticSettings

__all__ = ["SyntheticSettings"]
