"""Benchmarks of the kit and of the course's references (not part of the installed
package): ``python -m benchmarks <name>``, or ``make bench`` for all of them."""
