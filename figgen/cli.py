"""The `figgen` command line.

    figgen render [--model sd14|mini|PATH] [--device auto|cuda|cpu] [--only ID ...] [--force]
    figgen list   [--model sd14|mini|PATH]

Exit status: 0 on success, 1 when the model asked for cannot be used or a
figure fails, 2 for a bad catalogue or a bad argument.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .catalogue import DEFAULT_CATALOGUE, CatalogueError, load_catalogue
from .models import ModelUnavailable
from .render import Busy, FigureError, Project, list_figures, render

DEFAULT_FIGURES_DIR = Path("docs/figures")


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--model",
        help="'sd14' (CompVis/stable-diffusion-v1-4 from the local Hugging Face cache, downloaded if "
        "missing), 'mini' (mini-sd, the project's own miniature, in models/mini-sd) or the path of a "
        "local diffusers folder. Default: SD 1.4 if it is already cached, otherwise mini-sd; with "
        "neither, only figures that need no weights (the others get placeholders).",
    )
    common.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE, help="figure catalogue (TOML)")
    common.add_argument("--figures-dir", type=Path, default=DEFAULT_FIGURES_DIR, help="where figures go")
    common.add_argument("--cache-dir", type=Path, default=Path(".figgen-cache"), help="where captures are cached")

    top = argparse.ArgumentParser(prog="figgen", description="Generate the figures of Unboxing Stable Diffusion.")
    commands = top.add_subparsers(dest="command", required=True)
    render_parser = commands.add_parser("render", parents=[common], help="render figures that are out of date")
    render_parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    render_parser.add_argument("--only", nargs="+", metavar="ID", help="render only these figures")
    render_parser.add_argument("--force", action="store_true", help="render even figures that are up to date")
    commands.add_parser("list", parents=[common], help="list every figure, what it needs and its state")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.figures_dir == DEFAULT_FIGURES_DIR and not Path("mkdocs.yml").is_file():
        print(
            f"figgen: error: run figgen from the project folder (the one with mkdocs.yml), so that figures "
            f"go to its {DEFAULT_FIGURES_DIR}/; or pass --figures-dir. The current folder is {Path.cwd()}.",
            file=sys.stderr,
        )
        return 2
    try:
        project = Project(load_catalogue(args.catalogue), args.figures_dir, args.cache_dir)
        if args.command == "list":
            return list_figures(project, args.model)
        return render(project, args.model, args.device, args.only, args.force)
    except CatalogueError as error:
        print(f"figgen: error: {error.args[0]}\nfiggen: nothing was drawn; fix the catalogue and run again.", file=sys.stderr)
        return 2
    except (FigureError, Busy) as error:
        print(f"figgen: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = error.filename or "a file"
        print(
            f"figgen: error: cannot write {where}: {error.strerror or error}. Make that folder writable, or pass "
            "--figures-dir / --cache-dir; every file already written is complete.",
            file=sys.stderr,
        )
        return 1
    except ModelUnavailable as error:
        print(f"figgen: error: {error}\nfiggen: nothing was written.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("figgen: interrupted; finished files are kept, nothing is half written. Run again to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
