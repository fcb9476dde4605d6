"""Command line: ``python -m microexpression_pipeline.synthetic --out DIR [options]``.

Writes the synthetic SAMM + CASME II + SMIC-HS sample with the default settings (those of
conf/base/parameters_synthetic.yml) unless overridden here, then prints its summary as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from microexpression_pipeline.synthetic.generator import ForeignFolderError, ensure_synthetic_sample
from microexpression_pipeline.synthetic.settings import SyntheticSettings


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, generate (or reuse) the sample, print its summary."""
    parser = argparse.ArgumentParser(prog="python -m microexpression_pipeline.synthetic")
    parser.add_argument("--out", required=True, help="output folder (new, empty or ours)")
    parser.add_argument("--size", type=float, help="fraction of the real clip counts, (0, 1]")
    parser.add_argument("--width", type=int, help="SAMM frame width")
    parser.add_argument("--height", type=int, help="SAMM frame height")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--full-size", action="store_true", help="2040x1088, real durations")
    args = parser.parse_args(argv)

    overrides = {"size": args.size, "width": args.width, "height": args.height}
    settings = {
        **SyntheticSettings().model_dump(),
        **{name: value for name, value in overrides.items() if value is not None},
        "full_size": args.full_size,
        "output_dir": args.out,
    }
    try:
        summary = ensure_synthetic_sample(settings, args.seed)
    except (ValueError, ForeignFolderError) as error:  # bad settings, foreign folder
        print(error, file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
