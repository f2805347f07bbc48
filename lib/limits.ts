/**
 * The process's limit on open file descriptors (RLIMIT_NOFILE), which Node
 * has no API for. Serving thousands of channels needs more than the usual
 * soft limit of 1024; the soft limit may be raised up to the hard one.
 *
 * @example
 * const { hard } = getNofileLimit();
 * setNofileLimit(Math.min(hard, 20000));
 */
import { binding } from './native';

/** RLIMIT_NOFILE now: `soft` is in force, `hard` is the ceiling (Infinity for unlimited). */
export function getNofileLimit(): { soft: number; hard: number } {
  return binding.getNofileLimit();
}

/**
 * Set RLIMIT_NOFILE's soft limit (and the hard one, which only a privileged
 * process may raise). A soft limit above the hard one is a RangeError;
 * failures of setrlimit() are OSErrors. Returns the limits now in force.
 */
export function setNofileLimit(soft: number, hard?: number): { soft: number; hard: number } {
  return binding.setNofileLimit(soft, hard);
}
