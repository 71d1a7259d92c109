package org.pocketllm;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/**
 * A native pointer that close() zeroes. Calls hold the read lock so that close() on another thread waits
 * for them instead of freeing memory a call is still using (a crash, not an exception); after close()
 * every call throws IllegalStateException.
 */
final class Handle {
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final String what;
  private long ptr;

  Handle(String what, long ptr) {
    this.what = what;
    this.ptr = ptr;
  }

  <T> T use(LongFunction<T> body) {
    lock.readLock().lock();
    try {
      if (ptr == 0) throw new IllegalStateException("the " + what + " is closed");
      return body.apply(ptr);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Like use(), but nothing happens on a closed handle (for cancel(), which may race with close()). */
  void useIfOpen(LongConsumer body) {
    lock.readLock().lock();
    try {
      if (ptr != 0) body.accept(ptr);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Zeroes the handle and returns what it held (0 when already closed), once no call is using it. */
  long take() {
    // A read lock held by this thread (close() from inside use()) could never be upgraded: refuse, not hang.
    if (lock.getReadHoldCount() > 0) throw new IllegalStateException("the " + what + " cannot be closed from inside one of its own calls");
    lock.writeLock().lock();
    try {
      long p = ptr;
      ptr = 0;
      return p;
    } finally {
      lock.writeLock().unlock();
    }
  }
}
