"""What a sound does in a drum loop: its role.

Four roles, as a drummer splits a kit: ``low`` (the kick), ``backbeat`` (snare or clap), ``time`` (closed
and open hats, ride: what keeps time between the beats) and ``colour`` (everything else: rim clicks, toms,
crashes, percussion, effects). A rim plays colour here, so that a loop's backbeat track is a snare or a clap. A sample's role comes from its category (the kit's, or a user sample's guessed from its
name); a sample whose name says nothing (category ``other``) is placed by its sound (:func:`role_of_sound`),
so an unnamed folder still gets roles.

:func:`role_pools` (kept by :attr:`dd_live.sound.samples.SampleLibrary.role_pools`) gives, per role, the samples a track of that role draws from: its own role's, and for
``colour`` every sample that is not a kick, each category weighted alike (so a kit of 14 toms does not turn
every colour track into a tom).
"""

from __future__ import annotations

import numpy as np

from .audio import measure_one_shot

ROLES = ("low", "backbeat", "time", "colour")
ROLE_OF_CATEGORY: dict[str, str] = {
    "kick": "low",
    "snare": "backbeat", "clap": "backbeat", "rim": "colour",
    "hat_closed": "time", "hat_open": "time", "ride": "time",
    "crash": "colour", "tom": "colour", "bell": "colour", "perc": "colour", "zap": "colour", "harsh": "colour",
}
# By sound (category "other"), thresholds chosen on the default kit's categories and checked on
# sonic-pi-samples' named drums (tests/sound/test_roles.py):
LOW_SHARE = 0.6          # share of the power below 150 Hz of a kick ...
LOW_CENTROID = 160.0     # ... whose spectral centroid (Hz) is below this
HIGH_SHARE = 0.5         # share of the power above 5 kHz of a hat, shaker or cymbal ...
BODY_SHARE = 0.05        # ... with less than this share below 1 kHz (a bright snare has a body) ...
TIME_LONGEST = 2.0       # ... keeps time if shorter than this (s; a crash rings longer: colour)
NOISE_FLATNESS = 0.05    # a snare or clap: noisy (spectral flatness over 200 Hz-16 kHz at least this) ...
BACKBEAT_CENTROID = (800.0, 7000.0)   # ... centred in the snare's band (Hz) ...
BACKBEAT_LONGEST = 1.2   # ... and not a long swell (s)


def role_of_category(category: str) -> str | None:
    """The role of a sample category, or None for ``other`` (placed by its sound)."""
    return ROLE_OF_CATEGORY.get(category)


def role_of_sound(y: np.ndarray) -> str:
    """The role of a mono one-shot at the sample rate, from its sound alone: a kick's low thump, a snare's
    noise in the mid band, a hat's short bright hiss; anything else is colour."""
    m = measure_one_shot(y)
    low = float(m.power[m.freqs < 150].sum()) / m.total
    high = float(m.power[m.freqs > 5000].sum()) / m.total
    body = float(m.power[m.freqs < 1000].sum()) / m.total
    centroid = float((m.freqs * m.power).sum()) / m.total
    if low >= LOW_SHARE and centroid < LOW_CENTROID:
        return "low"
    if high >= HIGH_SHARE and body < BODY_SHARE:
        return "time" if m.duration < TIME_LONGEST else "colour"
    if (m.flatness >= NOISE_FLATNESS and BACKBEAT_CENTROID[0] <= centroid <= BACKBEAT_CENTROID[1]
            and m.duration < BACKBEAT_LONGEST):
        return "backbeat"
    return "colour"


def roles_of(library) -> np.ndarray:
    """Each sample's role (an array of role names, in library order); :attr:`SampleLibrary.roles` keeps it."""
    return np.array([role_of_category(s.category) or role_of_sound(library.audio(i))
                     for i, s in enumerate(library.samples)], dtype="<U8")


def kinds_of(library) -> np.ndarray:
    """Each sample's kind of sound: its category, or for a sample whose name says nothing ``other:`` and its
    role (what colour draws each alike, and what the policy tallies dislikes by)."""
    return np.array([s.category if s.category != "other" else f"other:{r}"
                     for s, r in zip(library.samples, library.roles)])


def role_pools(library) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per role, (sample indices, probabilities) a track of that role draws its sound from. A role with no
    sample of its own draws like colour; colour draws every non-kick sample, each category weighted alike.
    :attr:`SampleLibrary.role_pools` keeps it."""
    roles, cats = library.roles, kinds_of(library)
    every = np.arange(len(library))
    colour = every[roles != "low"] if (roles != "low").any() else every
    per_cat = {c: int((cats[colour] == c).sum()) for c in set(cats[colour].tolist())}
    w = np.array([1.0 / per_cat[c] for c in cats[colour]])
    pools = {"colour": (colour, w / w.sum())}
    for role in ROLES[:3]:
        own = every[roles == role]
        pools[role] = (own, np.full(own.size, 1.0 / own.size)) if own.size else pools["colour"]
    return pools
