package org.pocketllm;

import java.nio.charset.StandardCharsets;

/** A non-OK pocket_status: status() is its name ("io_error", "invalid_argument", "cancelled", ...), libraryMessage() pocket_last_error(). */
public class PocketException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String status;
  private final String libraryMessage;

  public PocketException(String status, String libraryMessage) {
    super(status + ": " + libraryMessage);
    this.status = status;
    this.libraryMessage = libraryMessage;
  }

  /** Called from JNI: the message comes as UTF-8 bytes (it may hold a file name in any script). */
  PocketException(String status, byte[] libraryMessageUtf8) {
    this(status, new String(libraryMessageUtf8, StandardCharsets.UTF_8));
  }

  public String status() {
    return status;
  }

  public String libraryMessage() {
    return libraryMessage;
  }
}
