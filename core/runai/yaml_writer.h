/* yaml_writer.h: block-style YAML text written straight into an s2r_buf
 * (private to core/runai; the YAML emitter and the REST manifest use it).
 *
 * The caller sends the events of one document (YAML 1.1 §3.1.2's
 * serialization events, without anchors or tags): mapping start/end,
 * sequence start/end and scalars with the style it asks for. The writer
 * lays them out and chooses the style a scalar can really take the way
 * libyaml 0.2.5's emitter does with indent 2, unlimited width, "\n"
 * breaks and unicode on, so the text is byte for byte what that emitter
 * writes for the same events (tests/unit/test_yaml_writer.c compares the
 * two): a plain scalar YAML would read as another string becomes single-
 * or double-quoted, a literal block that cannot hold its text becomes
 * double-quoted, an empty collection is written "{}" or "[]". */
#ifndef S2R_YAML_WRITER_H
#define S2R_YAML_WRITER_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>

/** Styles a scalar may ask for (YAML 1.1 §4.6 scalar styles). */
typedef enum s2r_yaml_style {
    S2R_YAML_PLAIN,
    S2R_YAML_SINGLE_QUOTED,
    S2R_YAML_DOUBLE_QUOTED,
    S2R_YAML_LITERAL,
    /** Plain, for a word its caller knows is written plain in any place
     *  (s2r_yaml_is_word() holds for it: an emitter's fixed keys, an
     *  integer): the writer does not look at its characters. */
    S2R_YAML_WORD
} s2r_yaml_style;

/** Collections nested deeper than this are an error. */
#define S2R_YAML_MAX_DEPTH 48

/** One open block collection. */
typedef struct s2r_yaml_frame {
    bool mapping;  /**< a mapping (else a sequence) */
    bool key_next; /**< mapping: the next node is a key */
    bool simple;   /**< mapping: the key in hand is a simple key */
    int indent;    /**< the indent to restore when it ends */
} s2r_yaml_frame;

/** The writer's state. Set up with s2r_yaml_writer_init(); it owns
 *  nothing (the text goes to the caller's buffer). */
typedef struct s2r_yaml_writer {
    s2r_buf *out;
    int indent;        /**< columns of the current block, -1 at the root */
    size_t column;     /**< characters written since the last break */
    bool whitespace;   /**< the last thing written was a blank or break */
    bool indention;    /**< only indentation written on this line */
    int open_ended;    /**< 2 after a literal kept its trailing breaks */
    int pending;       /**< 0, or 'm'/'s': a collection started, not laid
                            out yet (an empty one is written in flow) */
    bool in_mapping;   /**< the node in hand is a key or value */
    bool in_simple_key;/**< the node in hand is a simple key */
    bool root_done;
    size_t depth;
    s2r_yaml_frame stack[S2R_YAML_MAX_DEPTH];
    bool failed;       /**< events out of order, too deep, or a
                            collection as a key: every later call is a
                            no-op */
} s2r_yaml_writer;

/** Start a document (implicit: no "---") that writes into @p out. */
void s2r_yaml_writer_init(s2r_yaml_writer *w, s2r_buf *out);

/** A scalar: @p len bytes of @p s, valid UTF-8 (the emitters check it
 *  first); @p style is the style asked for. */
void s2r_yaml_scalar(s2r_yaml_writer *w, const char *s, size_t len,
                     s2r_yaml_style style);
/** True when the @p len bytes of @p s are written plain wherever they
 *  stand, as a simple key or a value, when plain is asked for: what
 *  S2R_YAML_WORD takes for granted. */
bool s2r_yaml_is_word(const char *s, size_t len);
/** A NUL-terminated scalar. */
void s2r_yaml_scalar_str(s2r_yaml_writer *w, const char *s,
                         s2r_yaml_style style);
/** Open and close a block mapping (keys and values alternate; keys must
 *  be scalars). */
void s2r_yaml_mapping_start(s2r_yaml_writer *w);
void s2r_yaml_mapping_end(s2r_yaml_writer *w);
/** Open and close a block sequence. */
void s2r_yaml_sequence_start(s2r_yaml_writer *w);
void s2r_yaml_sequence_end(s2r_yaml_writer *w);

/**
 * End the document and the stream (the final break, and "..." after a
 * trailing literal that keeps its breaks).
 * @return S2R_OK; S2R_ENOMEM when the buffer could not grow; S2R_EINVAL
 *         when the events did not make one whole document.
 */
int s2r_yaml_writer_end(s2r_yaml_writer *w);

#endif /* S2R_YAML_WRITER_H */
