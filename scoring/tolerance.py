"""The float error the status rules forgive, alone in a module so that number formatting
(handlers.numbers, the charts' axis labels in the picture worker) needs no domain models.
"""

from __future__ import annotations

#: Float error forgiven when a share is compared with a threshold (and when handlers cut
#: it to a percent): 0.7999999999 from arithmetic counts as 80 %, 0.79999 does not.
EPS = 1e-9
