"""The ``microreg`` command (filled in below)."""
import argparse

from . import __version__


def main(argv=None):
    parser = argparse.ArgumentParser(prog="microreg")
    parser.add_argument("--version", action="version", version=f"microreg {__version__}")
    parser.parse_args(argv)
    return 0
