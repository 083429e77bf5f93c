"""The wheel carries, besides the Python package, what pyjlchar runs in Julia: the Julia package
(julia/), the environment that loads it (Project.toml, Manifest.toml) and the shipped configs
(config/), copied into pyjlchar/_share, where pyjlchar/bridge/paths.py finds them. A checkout uses
them where they are."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHARED = ("Project.toml", "Manifest.toml", "julia/Project.toml", "julia/src", "julia/precompile", "config")


class BuildPyWithJulia(build_py):
    def run(self):
        super().run()
        share = Path(self.build_lib) / "pyjlchar" / "_share"
        for name in SHARED:
            source, target = Path(name), share / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target)


setup(cmdclass={"build_py": BuildPyWithJulia})
