#!/usr/bin/env python3
"""Prints the conviction-time tables of docs/detector.md.

    python3 docs/tools/detector_table.py

"Conviction after S seconds" is the time since the last heartbeat at which
phi reaches the threshold T, for a member whose inter-arrival times have mean
I and standard deviation J, with hearsay's defaults (detector/phi.c):

    normal       S = I + pause + max(J, min_stddev) * z(T),
                 z(T) the standard normal quantile with -log10 Q(z) = T
    exponential  S = pause + T * I * ln(10)

This is the closed form hs__phi_crossing_ms() uses; tests/unit/test_detector.c
checks a few of these numbers against the C code, so keep the two in step
if the defaults change. Standard library only: z(T) by bisection on
math.erfc, which is exact to double precision for these T.
"""
import math

# hearsay defaults (detector/phi.c, hs__phi_config_init)
PAUSE = 1.0       # acceptable_pause_ms / 1000
MIN_STDDEV = 0.5  # min_stddev_ms / 1000

THRESHOLDS = [1, 3, 5, 8, 10, 12, 16]
INTERVALS = [0.5, 1.0, 2.0]
JITTERS = [0.1, 0.5, 0.9]


def z_of(phi):
    """z with -log10(Q(z)) = phi, Q(z) = erfc(z / sqrt 2) / 2."""
    lo, hi = -10.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if -math.log10(0.5 * math.erfc(mid / math.sqrt(2))) < phi:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def normal_s(t, i, j, pause=PAUSE, min_sd=MIN_STDDEV):
    return max(0.0, i + pause + max(j, min_sd) * z_of(t))


def exponential_s(t, i, pause):
    return pause + t * i * math.log(10)


def main():
    for i in INTERVALS:
        print("Heartbeat interval I = %g s (mean inter-arrival time)\n" % i)
        head = ["T"] + ["normal, J = %g s" % j for j in JITTERS] + [
            "exponential, no pause", "exponential, pause 1 s"]
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---:" for _ in head) + "|")
        for t in THRESHOLDS:
            row = ["%d" % t]
            row += ["%.2f" % normal_s(t, i, j) for j in JITTERS]
            row += ["%.2f" % exponential_s(t, i, 0.0),
                    "%.2f" % exponential_s(t, i, PAUSE)]
            print("| " + " | ".join(row) + " |")
        print()

    print("Threshold 8, side by side (seconds):\n")
    print("| rhythm | hearsay defaults (normal) | Akka defaults (normal, "
          "min sd 0.1 s, pause 3 s) | Cassandra (exponential) |")
    print("|---|---:|---:|---:|")
    for name, i, j in [("direct, I = 1 s, J = 0.05 s", 1.0, 0.05),
                       ("gossip, mean 1.5 s, sd 0.9 s", 1.5, 0.9)]:
        print("| %s | %.2f | %.2f | %.2f |" % (
            name, normal_s(8, i, j), normal_s(8, i, j, 3.0, 0.1),
            exponential_s(8, i, 0.0)))
    print("\nz(T): " + ", ".join("z(%d) = %.4f" % (t, z_of(t))
                                 for t in THRESHOLDS))


if __name__ == "__main__":
    main()
