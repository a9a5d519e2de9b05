"""A wire story and the copies outlets make of it (hand-written), plus a different story on the same topic."""

from __future__ import annotations

PARAGRAPHS = [
    "Dock workers at the port of Rotterdam walked off the job on Monday after talks over pay broke down late on "
    "Sunday night. The union said about 4,000 members would stay out for at least 48 hours.",
    "The strike halted loading at the three largest container terminals, according to the port authority. "
    "Shipping lines warned customers that vessels bound for northern Europe could be diverted to Antwerp and "
    "Hamburg while the stoppage lasted.",
    "Employers had offered a raise of 6 percent over two years, while the union is asking for 11 percent and an "
    "automatic adjustment for inflation. A spokesperson for the employers called the demand unaffordable.",
    "Economists at ING estimated that every day of the stoppage delays cargo worth about 300 million euros. "
    "Retailers said shelves would not feel the effect for at least a week.",
    "The last strike at the port, in 2016, lasted four days and ended with a mediated agreement. The Dutch labour "
    "minister said she was ready to appoint a mediator again if both sides asked for one.",
]
TITLE = "Rotterdam dock workers strike over pay"


def body(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


ORIGINAL = body(PARAGRAPHS)
# the same story as other outlets run it: reordered, a paragraph cut, a new lede, small edits
REORDERED = body([PARAGRAPHS[0], PARAGRAPHS[2], PARAGRAPHS[1], PARAGRAPHS[4], PARAGRAPHS[3]])
CUT = body([PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2], PARAGRAPHS[4]])
NEW_LEDE = body(["Europe's busiest port ground to a halt this week as its dock workers downed tools.", *PARAGRAPHS[:4]])
# the wire's correction: the same outlet, one figure fixed
CORRECTED = ORIGINAL.replace("about 4,000 members", "about 4,500 members")
# another story about the same port and union, told in other words
OTHER_STORY = body(
    [
        "The port of Rotterdam reported record container volumes for the third quarter, helped by a rebound in "
        "trade with Asia and new automated cranes at the Maasvlakte terminals.",
        "Port officials said throughput rose 7 percent from a year earlier, and that the union representing dock "
        "workers had agreed to a training programme for the new equipment.",
        "Analysts cautioned that the slowdown in German industry could weigh on volumes next year, and that "
        "competition from Antwerp remained fierce after its merger with Zeebrugge.",
    ]
)
