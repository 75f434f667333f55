#pragma once
// Graceful shutdown for service mains: block SIGINT/SIGTERM in every thread (call first,
// before any thread starts), then wait for one of them on the main thread.

namespace shoal {

void block_termination_signals();
// Returns the signal number received.
int wait_for_termination_signal();

}  // namespace shoal
