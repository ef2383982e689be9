"""Portfolio generator (模拟委案数据): realistic placements for demos, tests and benchmarks.

See ``docs/generator.md``; the logic is in :mod:`cuishou.generator.portfolio`, the
reference data in :mod:`cuishou.generator.names`, the command in :mod:`cuishou.generator.cli`.
"""
