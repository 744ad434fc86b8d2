/* jack_audio.c -- audio out on MIDI out's JACK client: the loop playing, switched at its bar line, in C.
 * Part of dd_live (dd_live/ports/audio_jack.py drives it; midi_jack.py compiles it with jack_midi.c).
 *
 * Two output ports on the writer's client, filled by the writer's process callback (player_cycle): one JACK
 * client, so one process thread woken a cycle for MIDI out, MIDI in and audio out, where a PortAudio stream adds
 * a client of its own and a Python callback every block. The logic is audio_out.LoopState's, sample for sample:
 * the playing loop round again, the newest loop offered taken at its end (a song's: at its next bar line), a seek
 * to a share of the bar, and, following a host, the loop put back on the host's bar position when it drifts.
 *
 * Real-time rules: the callback takes no lock, allocates nothing and never calls into Python. Python hands it
 * commands through a lock-free single-producer ring (loops as pointers to arrays Python keeps alive); the callback
 * hands back, through a second ring, the id of each loop it will not read again, and only then does Python let
 * go of it. What it played goes into a tap (a ring of samples indexed by frame) for audio in.
 */

#include "jack_io.h"

#define COMMANDS 256
#define FREED 1024

enum { OFFER = 1, SEEK, PLAY, GRID, NO_GRID };

typedef struct {
    uint32_t id;                    /* Python's name for the arrays, given back once the callback is done */
    const float *audio;             /* mono samples; NULL: none */
    uint64_t frames;
    const int64_t *lines;           /* a song's bar lines (samples from its start), or NULL */
    uint64_t nlines;
    int32_t keep;                   /* start at the same place in it as in the one playing */
} buffer_t;

typedef struct {
    uint32_t kind;
    buffer_t loop;                  /* OFFER */
    int32_t flag;                   /* PLAY: 1 plays, 0 halts */
    double x, y, z;                 /* SEEK: the share of the bar (x); GRID: the host's tick 0 (x, frames), frames
                                     * a tick (y), ticks a bar (z) */
} command_t;

struct player {
    jack_port_t *ports[2];
    writer_t *host;                 /* the writer whose client carries the ports, NULL before ja_attach */
    jack_ringbuffer_t *commands, *freed;
    /* the callback's own */
    buffer_t loop, pending;
    uint64_t pos;
    int playing, following, seeking;
    double seek, a, b, ticks;
    double drift;                   /* frames off a followed host's bar before the loop is moved back */
    uint64_t next_start;            /* the frame the next cycle should start at: one that does not missed cycles */
    uint64_t frame;                 /* JACK's 32-bit frame counter unwrapped */
    uint64_t last_us;
    /* the callback's, read by others (atomics) */
    uint64_t cycles, missed, switches, corrections, longest_us, at, length, unfreed, id;
    /* the tap: sample of frame f at tap[f % tap_frames], frames up to ``tapped`` (exclusive) written */
    float *tap;
    uint64_t tap_frames, tapped;
    /* the last cycle's first frame and its time on JACK's clock (microseconds), behind a sequence count (odd:
     * being written) so that a reader never pairs one cycle's frame with another's time */
    uint64_t seq, at_frame, at_us;
    double rate;
};

player_t *ja_new(uint64_t tap_frames) {
    player_t *p = (player_t *)calloc(1, sizeof(player_t));
    if (p == NULL) {
        return NULL;
    }
    p->commands = jack_ringbuffer_create(COMMANDS * sizeof(command_t));
    p->freed = jack_ringbuffer_create(FREED * sizeof(uint32_t));
    p->tap_frames = tap_frames ? tap_frames : 1;
    p->tap = (float *)calloc(p->tap_frames, sizeof(float));
    if (p->commands == NULL || p->freed == NULL || p->tap == NULL) {
        if (p->commands != NULL) jack_ringbuffer_free(p->commands);
        if (p->freed != NULL) jack_ringbuffer_free(p->freed);
        free(p->tap);
        free(p);
        return NULL;
    }
    jack_ringbuffer_mlock(p->commands);
    jack_ringbuffer_mlock(p->freed);
    return p;
}

/* The callback will not read ``b`` again: give its id back (a full ring: Python keeps it, counted). */
static void let_go(player_t *p, buffer_t *b) {
    if (b->audio == NULL) {
        return;
    }
    if (jack_ringbuffer_write_space(p->freed) >= sizeof b->id) {
        jack_ringbuffer_write(p->freed, (const char *)&b->id, sizeof b->id);
    } else {
        __atomic_add_fetch(&p->unfreed, 1, __ATOMIC_RELAXED);
    }
    b->audio = NULL;
}

static void commands(player_t *p) {
    command_t c;
    while (jack_ringbuffer_read(p->commands, (char *)&c, sizeof c) == sizeof c) {
        switch (c.kind) {
        case OFFER:                 /* a newer offer replaces one still waiting */
            let_go(p, &p->pending);
            p->pending = c.loop;
            break;
        case SEEK:
            p->seek = c.x;
            p->seeking = 1;
            break;
        case PLAY:
            p->playing = c.flag;
            break;
        case GRID:
            p->a = c.x;
            p->b = c.y;
            p->ticks = c.z;
            p->following = c.y > 0 && c.z > 0;
            break;
        case NO_GRID:
            p->following = 0;
            break;
        }
    }
}

static void take_next(player_t *p) {
    if (p->pending.audio == NULL) {
        return;
    }
    p->pos = p->pending.keep && p->pending.frames ? p->pos % p->pending.frames : 0;
    let_go(p, &p->loop);
    p->loop = p->pending;
    p->pending.audio = NULL;
    __atomic_add_fetch(&p->switches, 1, __ATOMIC_RELAXED);
}

/* Following a host: put the loop where the host's bar is at ``frame`` if it is more than ``drift`` frames off. */
static void follow(player_t *p, double frame, double drift) {
    uint64_t n = p->loop.frames;
    double ticks = (frame - p->a) / p->b;
    ticks -= p->ticks * __builtin_floor(ticks / p->ticks);
    uint64_t want = (uint64_t)(ticks / p->ticks * (double)n) % n;
    int64_t off = (int64_t)((p->pos + n - want + n / 2) % n) - (int64_t)(n / 2);   /* the shorter way round */
    if ((double)(off < 0 ? -off : off) > drift) {
        p->pos = want;
        __atomic_add_fetch(&p->corrections, 1, __ATOMIC_RELAXED);
    }
}

/* Write the ``n`` frames from ``frame`` (JACK's, unwrapped) into ``out``: the commands come first, then the loop
 * as audio_out.LoopState.fill plays it (``drift``: frames off the host's bar before it is moved back). */
void ja_fill(player_t *p, float *out, uint32_t n, uint64_t frame, double drift) {
    commands(p);
    if (p->loop.audio == NULL) {
        take_next(p);
    }
    if (p->seeking && p->loop.audio != NULL && p->loop.frames) {
        p->seeking = 0;
        p->pos = (uint64_t)(p->seek * (double)p->loop.frames) % p->loop.frames;
    }
    uint32_t done = 0;
    if (p->playing && p->loop.audio != NULL && p->loop.frames) {
        if (p->following) {
            follow(p, (double)frame, drift);
        }
        while (done < n) {
            uint64_t end = p->loop.frames;
            if (p->loop.lines != NULL && p->pending.audio != NULL) {   /* a song: the next loop from its next bar */
                for (uint64_t k = 0; k < p->loop.nlines; k++) {
                    if ((uint64_t)p->loop.lines[k] > p->pos) {
                        end = (uint64_t)p->loop.lines[k] < end ? (uint64_t)p->loop.lines[k] : end;
                        break;
                    }
                }
            }
            uint64_t m = end - p->pos < (uint64_t)(n - done) ? end - p->pos : (uint64_t)(n - done);
            memcpy(out + done, p->loop.audio + p->pos, m * sizeof(float));
            done += (uint32_t)m;
            p->pos += m;
            if (p->pos >= end) {
                if (p->pos >= p->loop.frames) {
                    p->pos = 0;
                }
                take_next(p);
                if (p->loop.frames == 0) {
                    break;
                }
            }
        }
    }
    memset(out + done, 0, (n - done) * sizeof(float));
    uint64_t from = __atomic_load_n(&p->tapped, __ATOMIC_ACQUIRE);
    if (from && frame > from) {     /* cycles missed: what they did not play is silence */
        for (uint64_t f = frame - from > p->tap_frames ? frame - p->tap_frames : from; f < frame; f++) {
            p->tap[f % p->tap_frames] = 0.0f;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        p->tap[(frame + i) % p->tap_frames] = out[i];
    }
    __atomic_store_n(&p->tapped, frame + n, __ATOMIC_RELEASE);
    __atomic_store_n(&p->at, p->pos, __ATOMIC_RELAXED);
    __atomic_store_n(&p->length, p->playing && p->loop.audio != NULL ? p->loop.frames : 0, __ATOMIC_RELAXED);
    __atomic_store_n(&p->id, p->loop.audio != NULL ? p->loop.id : 0, __ATOMIC_RELAXED);
}

void player_cycle(player_t *p, jack_nframes_t frames, jack_nframes_t start) {
    p->frame = p->cycles ? p->frame + (uint32_t)(start - (uint32_t)p->frame) : start;
    if (p->cycles && p->frame != p->next_start) {
        __atomic_add_fetch(&p->missed, 1, __ATOMIC_RELAXED);
    }
    p->next_start = p->frame + frames;
    uint64_t now = jack_get_time();
    if (p->cycles && now - p->last_us > __atomic_load_n(&p->longest_us, __ATOMIC_RELAXED)) {
        __atomic_store_n(&p->longest_us, now - p->last_us, __ATOMIC_RELAXED);
    }
    p->last_us = now;
    __atomic_add_fetch(&p->seq, 1, __ATOMIC_ACQ_REL);
    __atomic_store_n(&p->at_frame, p->frame, __ATOMIC_RELAXED);
    __atomic_store_n(&p->at_us, jack_frames_to_time(writer_client(p->host), start), __ATOMIC_RELAXED);
    __atomic_add_fetch(&p->seq, 1, __ATOMIC_ACQ_REL);
    float *left = (float *)jack_port_get_buffer(p->ports[0], frames);
    float *right = (float *)jack_port_get_buffer(p->ports[1], frames);
    ja_fill(p, left, frames, p->frame, p->drift);
    memcpy(right, left, frames * sizeof(float));
    __atomic_add_fetch(&p->cycles, 1, __ATOMIC_RELEASE);
}

/* Ports ``left`` and ``right`` on writer ``w``'s client, filled by its callback from now on (``drift``: see
 * ja_fill): 0, or -1 (ports that cannot be made, or audio out on it already). */
int ja_attach(player_t *p, writer_t *w, const char *left, const char *right, double drift) {
    jack_client_t *client = writer_client(w);
    p->drift = drift;
    p->rate = (double)jack_get_sample_rate(client);
    p->ports[0] = jack_port_register(client, left, AUDIO_TYPE, JACK_PORT_IS_OUTPUT, 0);
    p->ports[1] = jack_port_register(client, right, AUDIO_TYPE, JACK_PORT_IS_OUTPUT, 0);
    p->host = w;
    if (p->ports[0] == NULL || p->ports[1] == NULL || writer_attach_player(w, p) != 0) {
        for (int i = 0; i < 2; i++) {
            if (p->ports[i] != NULL) jack_port_unregister(client, p->ports[i]);
            p->ports[i] = NULL;
        }
        p->host = NULL;
        return -1;
    }
    return 0;
}

const char *ja_port_name(player_t *p, int i) { return jack_port_name(p->ports[i & 1]); }
uint32_t ja_period(player_t *p) { return jack_get_buffer_size(writer_client(p->host)); }

/* Connect the ports to the first two physical playback ports (one: both to it): how many were connected. */
int ja_connect_physical(player_t *p) {
    const char **playback = jack_get_ports(writer_client(p->host), NULL, AUDIO_TYPE,
                                           JACK_PORT_IS_PHYSICAL | JACK_PORT_IS_INPUT);
    int connected = 0;
    if (playback == NULL) {
        return 0;
    }
    for (int i = 0; i < 2 && playback[0] != NULL; i++) {
        const char *to = playback[1] != NULL ? playback[i] : playback[0];
        connected += jack_connect(writer_client(p->host), jack_port_name(p->ports[i]), to) == 0;
    }
    jack_free(playback);
    return connected;
}

/* Queue a command for the callback (see command_t): 0, or -1 if its ring is full. One producer at a time. */
int ja_command(player_t *p, uint32_t kind, uint32_t id, const float *audio, uint64_t frames, const int64_t *lines,
               uint64_t nlines, int32_t flag, double x, double y, double z) {
    command_t c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.loop.id = id;
    c.loop.audio = audio;
    c.loop.frames = frames;
    c.loop.lines = lines;
    c.loop.nlines = nlines;
    c.loop.keep = flag;
    c.flag = flag;
    c.x = x;
    c.y = y;
    c.z = z;
    if (jack_ringbuffer_write_space(p->commands) < sizeof c) {
        return -1;
    }
    jack_ringbuffer_write(p->commands, (const char *)&c, sizeof c);
    return 0;
}

/* The next id of a loop the callback is done with: 1, or 0 if none. */
int ja_freed(player_t *p, uint32_t *id) {
    return jack_ringbuffer_read(p->freed, (char *)id, sizeof *id) == sizeof *id;
}

/* cycles, missed cycles, loop switches, corrections onto a host's clock, the position and length of the loop
 * playing (length 0: silent), the longest time between two cycles (microseconds), ids the ring could not take,
 * the id of the loop in place (0: none). */
void ja_stats(player_t *p, uint64_t *out) {
    out[0] = __atomic_load_n(&p->cycles, __ATOMIC_ACQUIRE);
    out[1] = __atomic_load_n(&p->missed, __ATOMIC_RELAXED);
    out[2] = __atomic_load_n(&p->switches, __ATOMIC_RELAXED);
    out[3] = __atomic_load_n(&p->corrections, __ATOMIC_RELAXED);
    out[4] = __atomic_load_n(&p->at, __ATOMIC_RELAXED);
    out[5] = __atomic_load_n(&p->length, __ATOMIC_RELAXED);
    out[6] = __atomic_load_n(&p->longest_us, __ATOMIC_RELAXED);
    out[7] = __atomic_load_n(&p->unfreed, __ATOMIC_RELAXED);
    out[8] = __atomic_load_n(&p->id, __ATOMIC_RELAXED);
}

/* Now on JACK's clock (microseconds). */
uint64_t ja_now_us(void) { return jack_get_time(); }

/* The frame (JACK's, unwrapped) that is played at ``us`` on JACK's clock, by the last cycle's frame and time;
 * -1 before the first cycle. */
double ja_frame_at(player_t *p, uint64_t us) {
    for (;;) {
        uint64_t seq = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);
        uint64_t frame = __atomic_load_n(&p->at_frame, __ATOMIC_RELAXED);
        uint64_t at = __atomic_load_n(&p->at_us, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (seq % 2 == 0 && seq == __atomic_load_n(&p->seq, __ATOMIC_RELAXED)) {
            return seq == 0 ? -1.0 : (double)frame + ((double)us - (double)at) * p->rate / 1e6;
        }
    }
}

/* What was played from frame ``frame`` on into ``out`` (``n`` samples; silence where nothing was, or it has
 * been written over since): the frame after the last one played so far. */
uint64_t ja_tap(player_t *p, float *out, uint64_t n, uint64_t frame) {
    uint64_t upto = __atomic_load_n(&p->tapped, __ATOMIC_ACQUIRE);
    uint64_t oldest = upto > p->tap_frames / 2 ? upto - p->tap_frames / 2 : 0;   /* half: never the part written */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t f = frame + i;
        out[i] = f >= oldest && f < upto ? p->tap[f % p->tap_frames] : 0.0f;
    }
    return upto;
}

/* Stop and free: detached from the writer's callback first (left allocated if a stalled server still runs it),
 * its ports taken off the writer's client, which closes now if MIDI out has closed already. */
void ja_close(player_t *p) {
    writer_t *w = p->host;
    if (w != NULL) {
        if (writer_detach_player(w) != 0) {
            writer_release(w);
            return;
        }
        for (int i = 0; i < 2; i++) {
            jack_port_unregister(writer_client(w), p->ports[i]);
        }
        writer_release(w);
    }
    jack_ringbuffer_free(p->commands);
    jack_ringbuffer_free(p->freed);
    free(p->tap);
    free(p);
}
