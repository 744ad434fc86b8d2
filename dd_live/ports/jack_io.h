/* jack_io.h -- what dd_live's JACK callbacks (jack_midi.c, jack_audio.c) share: the few declarations of JACK's
 * stable C API they use (libjack is loaded by the caller with RTLD_GLOBAL, so no JACK headers are needed), and
 * how audio out joins MIDI out's client, so that one JACK process thread a cycle serves both. */

#ifndef DD_LIVE_JACK_IO_H
#define DD_LIVE_JACK_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef uint32_t jack_nframes_t;
typedef struct _jack_client jack_client_t;
typedef struct _jack_port jack_port_t;
typedef struct jack_ringbuffer jack_ringbuffer_t;

extern jack_client_t *jack_client_open(const char *name, int options, int *status, ...);
extern int jack_client_close(jack_client_t *client);
extern jack_port_t *jack_port_register(jack_client_t *client, const char *name, const char *type,
                                       unsigned long flags, unsigned long buffer_size);
extern const char *jack_port_name(const jack_port_t *port);
extern int jack_set_process_callback(jack_client_t *client, int (*cb)(jack_nframes_t, void *), void *arg);
extern int jack_activate(jack_client_t *client);
extern int jack_deactivate(jack_client_t *client);
extern void *jack_port_get_buffer(jack_port_t *port, jack_nframes_t frames);
extern void jack_midi_clear_buffer(void *buffer);
extern int jack_midi_event_write(void *buffer, jack_nframes_t time, const unsigned char *data, size_t size);
extern jack_nframes_t jack_last_frame_time(const jack_client_t *client);
extern jack_nframes_t jack_frame_time(const jack_client_t *client);
extern jack_nframes_t jack_get_sample_rate(jack_client_t *client);
extern int jack_connect(jack_client_t *client, const char *source, const char *destination);
extern int jack_port_unregister(jack_client_t *client, jack_port_t *port);
extern jack_ringbuffer_t *jack_ringbuffer_create(size_t size);
extern void jack_ringbuffer_free(jack_ringbuffer_t *rb);
extern size_t jack_ringbuffer_write(jack_ringbuffer_t *rb, const char *src, size_t count);
extern size_t jack_ringbuffer_write_space(const jack_ringbuffer_t *rb);
extern size_t jack_ringbuffer_peek(jack_ringbuffer_t *rb, char *dest, size_t count);
extern void jack_ringbuffer_read_advance(jack_ringbuffer_t *rb, size_t count);
extern int jack_ringbuffer_mlock(jack_ringbuffer_t *rb);
extern uint32_t jack_midi_get_event_count(void *buffer);
typedef struct {
    jack_nframes_t time;
    size_t size;
    unsigned char *buffer;
} jack_midi_event_t;
extern int jack_midi_event_get(jack_midi_event_t *event, void *buffer, uint32_t index);
extern size_t jack_ringbuffer_read(jack_ringbuffer_t *rb, char *dest, size_t count);
extern size_t jack_ringbuffer_read_space(const jack_ringbuffer_t *rb);

#define JACK_NO_START_SERVER 0x01
#define JACK_PORT_IS_INPUT 0x1
#define JACK_PORT_IS_OUTPUT 0x2
#define JACK_PORT_IS_PHYSICAL 0x4
#define AUDIO_TYPE "32 bit float mono audio"
extern const char **jack_get_ports(jack_client_t *client, const char *name, const char *type, unsigned long flags);
extern void jack_free(void *ptr);
extern uint64_t jack_get_time(void);
extern uint64_t jack_frames_to_time(const jack_client_t *client, jack_nframes_t frames);
extern jack_nframes_t jack_get_buffer_size(jack_client_t *client);

typedef struct writer writer_t;
typedef struct player player_t;

/* jack_midi.c: the writer's client, to register another part's ports on; attach ``p`` to be run by the writer's
 * callback each cycle (0; -1 if one is attached already), which holds the client open until writer_release;
 * detach it (0 once the callback has let go of it, -1 if a stalled server still holds it: keep it allocated),
 * then take its ports off the client and call writer_release. */
jack_client_t *writer_client(writer_t *w);
int writer_attach_player(writer_t *w, player_t *p);
int writer_detach_player(writer_t *w);
void writer_release(writer_t *w);

/* jack_audio.c: one cycle of audio out, run by the writer's process callback. */
void player_cycle(player_t *p, jack_nframes_t frames, jack_nframes_t start);

#endif
