"""The step runtime: the code that runs inside the workflow pods and under `maestro run`.

Each built-in step is a function `run(ctx: StepContext) -> None` in a module of this package; it
reads its upstream steps' folders under the work dir and writes only into its own folder, ending
with a `manifest.json`. `registry` lists the steps and what they read; it imports nothing heavy, so
the compiler can use it too. torch and pandas are imported only inside the steps that need them.
"""
