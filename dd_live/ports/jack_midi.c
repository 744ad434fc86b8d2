/* jack_midi.c -- a JACK MIDI output whose process callback writes each message at the frame it is
 * stamped with, and a JACK MIDI input that records each event with its frame. Part of dd_live
 * (dd_live/ports/midi_jack.py compiles it with jack_audio.c on first use and loads it with ctypes; jack_io.h
 * declares what of JACK's API they use). The writer's callback also runs a reader and audio out attached to it.
 *
 * Real-time rules: the process callback takes no lock, allocates nothing and never calls into Python. The
 * producer (dd_live's MIDI player thread) and the callback share a lock-free single-producer,
 * single-consumer jack_ringbuffer of fixed-size events; a cancel raises a generation number, and the
 * callback drops events of older generations.
 *
 * The reader can wake a waiting thread: after a cycle that recorded events its callback writes one byte to a
 * non-blocking pipe the caller gave it (jr_notify), so a thread waits in select() instead of polling.
 */

#include "jack_io.h"

#ifdef __linux__
#include <sys/prctl.h>
#else
#define prctl(...) 0
#define PR_SET_NAME 0
#endif

#define MIDI_TYPE "8 bit raw midi"
#define EVENTS 8192
#define READERS 4                   /* readers a writer's client can carry (MIDI in, clock in, tests) */
#define NOW 0x100                   /* jw_send's size | NOW: the message is for the next cycle, never "late" */

typedef struct {
    jack_nframes_t frame;
    uint32_t generation;
    uint32_t size;
    unsigned char data[4];
} event_t;

/* What the writer and the reader both hold: a client with one MIDI port and a ring of events. */
typedef struct {
    jack_client_t *client;
    jack_port_t *port;
    jack_ringbuffer_t *ring;
} endpoint_t;

/* Open ``io``: the client, its port (JACK_PORT_IS_INPUT or _OUTPUT), the ring, ``callback(arg)`` as the process
 * callback, activated. 0, or -1 with everything opened so far closed again. */
static int endpoint_open(endpoint_t *io, const char *client_name, const char *port_name, unsigned long flags,
                         int (*callback)(jack_nframes_t, void *), void *arg, int *status) {
    io->client = jack_client_open(client_name, JACK_NO_START_SERVER, status);
    if (io->client == NULL) {
        return -1;
    }
    io->port = jack_port_register(io->client, port_name, MIDI_TYPE, flags, 0);
    io->ring = jack_ringbuffer_create(EVENTS * sizeof(event_t));
    if (io->port == NULL || io->ring == NULL || jack_set_process_callback(io->client, callback, arg) != 0 ||
        jack_activate(io->client) != 0) {
        jack_client_close(io->client);
        if (io->ring != NULL) {
            jack_ringbuffer_free(io->ring);
        }
        return -1;
    }
    jack_ringbuffer_mlock(io->ring);
    return 0;
}

/* Deactivate (the callback has returned and is not called again), close, free the ring. */
static void endpoint_close(endpoint_t *io) {
    jack_deactivate(io->client);
    jack_client_close(io->client);
    jack_ringbuffer_free(io->ring);
}

typedef struct reader reader_t;
static void reader_cycle(reader_t *r, jack_nframes_t frames, jack_nframes_t start);

struct writer {
    endpoint_t io;
    uint32_t generation;            /* raised by jw_cancel (producer), read by the callback (atomics) */
    uint64_t late;                  /* events written after their frame: their cycle had passed */
    uint64_t lost;                  /* events the ring had no room for */
    reader_t *attached[READERS];    /* readers whose ports are on this client, run by this callback (atomic) */
    player_t *audio;                /* audio out, its ports on this client, run by this callback (atomic) */
    int busy;                       /* the callback is between reading ``attached``/``audio`` and being done */
    int refs;                       /* the writer and what is attached: the last to close closes the client */
};

static int process(jack_nframes_t frames, void *arg) {
    writer_t *w = (writer_t *)arg;
    static __thread int named = 0;
    if (!named) {                   /* once: the thread shows as "dd-jack" (top -H, bench live's CPU by thread) */
        named = 1;
        prctl(PR_SET_NAME, "dd-jack", 0, 0, 0);
    }
    jack_nframes_t start = jack_last_frame_time(w->io.client);   /* this cycle's first frame, for every part */
    __atomic_add_fetch(&w->busy, 1, __ATOMIC_SEQ_CST);   /* before ``attached`` is read: see jr_close */
    for (int i = 0; i < READERS; i++) {
        reader_t *r = __atomic_load_n(&w->attached[i], __ATOMIC_SEQ_CST);
        if (r != NULL) {
            reader_cycle(r, frames, start);
        }
    }
    player_t *p = __atomic_load_n(&w->audio, __ATOMIC_SEQ_CST);
    if (p != NULL) {
        player_cycle(p, frames, start);
    }
    __atomic_sub_fetch(&w->busy, 1, __ATOMIC_SEQ_CST);
    void *buffer = jack_port_get_buffer(w->io.port, frames);
    jack_midi_clear_buffer(buffer);
    event_t e;
    while (jack_ringbuffer_peek(w->io.ring, (char *)&e, sizeof e) == sizeof e) {
        uint32_t generation = __atomic_load_n(&w->generation, __ATOMIC_ACQUIRE);
        if ((int32_t)(e.generation - generation) < 0) {   /* queued before a cancel */
            jack_ringbuffer_read_advance(w->io.ring, sizeof e);
            continue;
        }
        int32_t at = (int32_t)(e.frame - start);    /* wrap-safe: frames are 32-bit */
        if (at >= (int32_t)frames) {
            break;                                  /* a later cycle's */
        }
        if (at < 0) {
            if (!(e.size & NOW)) {
                __atomic_add_fetch(&w->late, 1, __ATOMIC_RELAXED);
            }
            at = 0;
        }
        jack_midi_event_write(buffer, (jack_nframes_t)at, e.data, e.size & ~NOW);
        jack_ringbuffer_read_advance(w->io.ring, sizeof e);
    }
    return 0;
}

writer_t *jw_open(const char *client_name, const char *port_name, int *status) {
    writer_t *w = (writer_t *)calloc(1, sizeof(writer_t));
    if (w != NULL) {
        w->refs = 1;
    }
    if (w != NULL && endpoint_open(&w->io, client_name, port_name, JACK_PORT_IS_OUTPUT, process, w, status) != 0) {
        free(w);
        w = NULL;
    }
    return w;
}

/* One reference to ``w`` less; the last closes its client (the callback is not called again) and frees it. */
void writer_release(writer_t *w) {
    if (__atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        endpoint_close(&w->io);
        free(w);
    }
}

/* Wait until no callback still uses what was detached before this call: 1, or 0 if a stalled server kept one
 * busy for a second (what it used must then stay allocated). A callback that counted itself busy before the
 * detaching store may still use it; one that counts itself after it reads NULL. */
static int writer_let_go(writer_t *w) {
    for (int i = 0; i < 1000 && __atomic_load_n(&w->busy, __ATOMIC_SEQ_CST) != 0; i++) {
        usleep(1000);
    }
    return __atomic_load_n(&w->busy, __ATOMIC_SEQ_CST) == 0;
}

jack_client_t *writer_client(writer_t *w) { return w->io.client; }

int writer_attach_player(writer_t *w, player_t *p) {
    player_t *none = NULL;
    if (!__atomic_compare_exchange_n(&w->audio, &none, p, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        return -1;
    }
    __atomic_add_fetch(&w->refs, 1, __ATOMIC_ACQ_REL);
    return 0;
}

int writer_detach_player(writer_t *w) {
    __atomic_store_n(&w->audio, NULL, __ATOMIC_SEQ_CST);
    return writer_let_go(w) ? 0 : -1;
}

const char *jw_port_name(writer_t *w) { return jack_port_name(w->io.port); }
uint32_t jw_frame_time(writer_t *w) { return jack_frame_time(w->io.client); }
uint32_t jw_sample_rate(writer_t *w) { return jack_get_sample_rate(w->io.client); }
uint64_t jw_late(writer_t *w) { return __atomic_load_n(&w->late, __ATOMIC_RELAXED); }
uint64_t jw_lost(writer_t *w) { return w->lost; }
int jw_connect(writer_t *w, const char *destination) { return jack_connect(w->io.client, jack_port_name(w->io.port), destination); }

/* Queue a message (1-3 bytes) for frame ``frame``; frames must not go backwards. ``size | NOW``: a message
 * for the next cycle (not counted late when its frame has passed). 0 on success. */
int jw_send(writer_t *w, uint32_t frame, const unsigned char *data, uint32_t size) {
    event_t e;
    uint32_t bytes = size & ~NOW;
    if (bytes < 1 || bytes > sizeof e.data) {
        return -1;
    }
    if (jack_ringbuffer_write_space(w->io.ring) < sizeof e) {
        w->lost++;
        return -2;
    }
    memset(&e, 0, sizeof e);
    e.frame = frame;
    e.generation = __atomic_load_n(&w->generation, __ATOMIC_ACQUIRE);
    e.size = size;
    memcpy(e.data, data, bytes);
    jack_ringbuffer_write(w->io.ring, (const char *)&e, sizeof e);
    return 0;
}

/* Drop everything queued and not yet written. */
void jw_cancel(writer_t *w) { __atomic_add_fetch(&w->generation, 1, __ATOMIC_RELEASE); }

/* The writer is done: nothing queued is written any more; its client closes now, or with the last reader or
 * player attached to it (whose ports the client carries), when that one closes. */
void jw_close(writer_t *w) {
    jw_cancel(w);
    writer_release(w);
}

/* ---------------------------------------------------------------- the reader (clock in, tests, benchmarks) */

struct reader {
    endpoint_t io;
    uint64_t lost;                  /* events the ring had no room for, or longer than 4 bytes */
    int notify;                     /* a non-blocking pipe's write end, written once a cycle with events; -1 */
    writer_t *host;                 /* the writer whose client carries this reader's port (jr_attach), or NULL */
    int slot;                       /* ... and its place among the writer's attached readers */
};

static int process_in(jack_nframes_t frames, void *arg) {
    reader_t *r = (reader_t *)arg;
    reader_cycle(r, frames, jack_last_frame_time(r->io.client));
    return 0;
}

/* Record the events of this cycle (which began at frame ``start``) from the reader's port. */
static void reader_cycle(reader_t *r, jack_nframes_t frames, jack_nframes_t start) {
    void *buffer = jack_port_get_buffer(r->io.port, frames);
    uint32_t n = jack_midi_get_event_count(buffer);
    uint32_t recorded = 0;
    for (uint32_t i = 0; i < n; i++) {
        jack_midi_event_t in;
        event_t e;
        if (jack_midi_event_get(&in, buffer, i) != 0) {
            continue;
        }
        if (in.size > sizeof e.data || jack_ringbuffer_write_space(r->io.ring) < sizeof e) {
            __atomic_add_fetch(&r->lost, 1, __ATOMIC_RELAXED);
            continue;
        }
        memset(&e, 0, sizeof e);
        e.frame = start + in.time;
        e.size = (uint32_t)in.size;
        memcpy(e.data, in.buffer, in.size);
        jack_ringbuffer_write(r->io.ring, (const char *)&e, sizeof e);
        recorded++;
    }
    int fd = __atomic_load_n(&r->notify, __ATOMIC_ACQUIRE);
    if (recorded && fd >= 0) {
        char one = 1;
        ssize_t written = write(fd, &one, 1);  /* a full pipe (nobody read yet) already says "events" */
        (void)written;
    }
}

reader_t *jr_open(const char *client_name, const char *port_name, int *status) {
    reader_t *r = (reader_t *)calloc(1, sizeof(reader_t));
    if (r != NULL) {
        r->notify = -1;
    }
    if (r != NULL && endpoint_open(&r->io, client_name, port_name, JACK_PORT_IS_INPUT, process_in, r, status) != 0) {
        free(r);
        r = NULL;
    }
    return r;
}

/* A reader whose port ``port_name`` is on writer ``w``'s client, its events recorded by the writer's callback: one
 * JACK client, so one process thread woken each cycle, for MIDI out, MIDI in and clock in. NULL if ``w`` has
 * READERS readers already or the port cannot be made. */
reader_t *jr_attach(writer_t *w, const char *port_name) {
    reader_t *r = (reader_t *)calloc(1, sizeof(reader_t));
    if (r == NULL) {
        return NULL;
    }
    r->notify = -1;
    r->host = w;
    r->io.client = w->io.client;
    r->io.port = jack_port_register(w->io.client, port_name, MIDI_TYPE, JACK_PORT_IS_INPUT, 0);
    r->io.ring = jack_ringbuffer_create(EVENTS * sizeof(event_t));
    r->slot = -1;
    for (int i = 0; i < READERS && r->io.port != NULL && r->io.ring != NULL && r->slot < 0; i++) {
        reader_t *none = NULL;
        if (__atomic_compare_exchange_n(&w->attached[i], &none, r, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            r->slot = i;
        }
    }
    if (r->slot < 0) {
        if (r->io.port != NULL) {
            jack_port_unregister(w->io.client, r->io.port);
        }
        if (r->io.ring != NULL) {
            jack_ringbuffer_free(r->io.ring);
        }
        free(r);
        return NULL;
    }
    jack_ringbuffer_mlock(r->io.ring);
    __atomic_add_fetch(&w->refs, 1, __ATOMIC_ACQ_REL);
    return r;
}

uint32_t jr_sample_rate(reader_t *r) { return jack_get_sample_rate(r->io.client); }
const char *jr_port_name(reader_t *r) { return jack_port_name(r->io.port); }

/* Connect the JACK MIDI output ``source`` (its full name) to the reader's input: 0, or JACK's error. */
int jr_connect(reader_t *r, const char *source) { return jack_connect(r->io.client, source, jack_port_name(r->io.port)); }
/* Write a byte to ``fd`` (a non-blocking pipe's write end; -1: none) after each cycle that recorded events. */
void jr_notify(reader_t *r, int fd) { __atomic_store_n(&r->notify, fd, __ATOMIC_RELEASE); }
uint64_t jr_lost(reader_t *r) { return __atomic_load_n(&r->lost, __ATOMIC_RELAXED); }

/* The next event recorded: 1 and its frame, bytes and size, or 0 if none. */
int jr_read(reader_t *r, uint32_t *frame, unsigned char *data, uint32_t *size) {
    event_t e;
    if (jack_ringbuffer_read(r->io.ring, (char *)&e, sizeof e) != sizeof e) {
        return 0;
    }
    *frame = e.frame;
    *size = e.size;
    memcpy(data, e.data, e.size);
    return 1;
}

/* Close the reader: its own client, or, attached, its port (the writer's callback has let go of it first). */
void jr_close(reader_t *r) {
    writer_t *w = r->host;
    if (w == NULL) {
        endpoint_close(&r->io);
        free(r);
        return;
    }
    __atomic_store_n(&w->attached[r->slot], NULL, __ATOMIC_SEQ_CST);
    if (writer_let_go(w)) {
        jack_port_unregister(w->io.client, r->io.port);
        jack_ringbuffer_free(r->io.ring);
        free(r);
    }
    writer_release(w);
}
