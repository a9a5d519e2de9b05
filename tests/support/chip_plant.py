"""One developing story (a chip plant in Dresden) as three dated articles: (id, day, title, text)."""

from __future__ import annotations

CHIP_PLANT = [
    ("chip-1", "2023-09-05", "Chipmaker plans a plant in Dresden",
     "Silicon Forge announced plans for a chip plant in Dresden. The company said the plant would cost 10 billion "
     "euros and employ 2,000 people once it opens in 2026."),
    ("chip-2", "2023-10-10", "Construction of the Dresden chip plant begins",
     "Construction of Silicon Forge's chip plant in Dresden began on Tuesday. Cranes moved onto the site after the "
     "city approved the building permit last week."),
    ("chip-3", "2023-11-20", "Dresden chip plant gets its first machines",
     "The first lithography machines arrived at Silicon Forge's Dresden chip plant, which is now expected to start "
     "production early in 2026."),
]  # fmt: skip
