/* cim_outfile.c -- see cim_outfile.h for the protocol.
 *
 * Identity is by inode: two names are the same file when stat() gives the
 * same device and inode, so "--out model.h5" is caught however the path is
 * spelt. Before a name is renamed or removed, it is checked to still name
 * the inode this run holds (fstat of the locked descriptor), so that a file
 * someone else put there meanwhile is never touched.
 */
#define _GNU_SOURCE
#include "cim_outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *d = malloc(na + nb + 1);
    if (d) {
        memcpy(d, a, na);
        memcpy(d + na, b, nb + 1);
    }
    return d;
}

/* The folder holding path ("." for a bare name), malloc'd. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *d;
    if (!slash)
        return join(".", "");
    if (slash == path)
        return join("/", "");
    d = malloc((size_t)(slash - path) + 1);
    if (d) {
        memcpy(d, path, (size_t)(slash - path));
        d[slash - path] = '\0';
    }
    return d;
}

static int same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Does `name` still name the file open as fd? */
static int names_fd(const char *name, int fd)
{
    struct stat a, b;
    return fd >= 0 && stat(name, &a) == 0 && fstat(fd, &b) == 0 && same_inode(&a, &b);
}

/* An exclusive write lock on the whole file, held by this open file
 * description. 0 locked (or the file system cannot lock), 1 held by someone
 * else, -1 other failure (errno). */
static int lock_exclusive(int fd)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    if (errno == EAGAIN || errno == EACCES)
        return 1;
    if (errno == ENOLCK || errno == EINVAL || errno == ENOSYS)
        return 0;
    return -1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* rename(from, to) that fails with EEXIST instead of replacing `to`; where
 * the file system lacks RENAME_NOREPLACE, link (which never replaces) and
 * unlink, which leaves both names for a moment. */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (link(from, to) != 0)
        return -1;
    unlink(from);
    return 0;
}

int cim_outfile_check_not_input(const char *option, const char *path, const char *shown,
                                const cim_outfile_input *inputs, int n, cim_error *err)
{
    struct stat out, in;
    if (stat(path, &out) != 0)
        return 0; /* not there yet: no input */
    for (int i = 0; i < n; ++i) {
        const cim_outfile_input *x = &inputs[i];
        if (x->path && stat(x->path, &in) == 0 && same_inode(&out, &in))
            return cim_error_set(err, CIM_ERR_USAGE,
                                 "%s %s: that is the run's input %s %s; choose another "
                                 "results file",
                                 option, shown ? shown : path, x->option, x->path);
    }
    return 0;
}

/* --out must be none of the run's inputs, under either of its names. */
static int check_inputs(const cim_outfile_spec *s, const char *partial, cim_error *err)
{
    int rc = cim_outfile_check_not_input("--out", s->path, NULL, s->inputs, s->n_inputs, err);
    return rc != 0 ? rc
                   : cim_outfile_check_not_input("--out", partial, s->path, s->inputs, s->n_inputs,
                                                 err);
}

/* The existing R.h5.partial: locked and kept for resume or force, refused
 * otherwise. */
static int take_old_partial(const cim_outfile_spec *s, cim_outfile *o, cim_error *err)
{
    int held;
    o->old_fd = open(o->partial, O_RDWR | O_CLOEXEC);
    if (o->old_fd < 0) {
        if (errno == ENOENT)
            return 0;
        return cim_error_set(err, CIM_ERR_IO, "--out %s: cannot open %s: %s", s->path, o->partial,
                             strerror(errno));
    }
    held = lock_exclusive(o->old_fd);
    if (held != 0 || !names_fd(o->partial, o->old_fd)) {
        int e = errno;
        close_fd(&o->old_fd);
        if (held < 0)
            return cim_error_set(err, CIM_ERR_IO, "--out %s: cannot lock %s: %s", s->path,
                                 o->partial, strerror(e));
        return cim_error_set(err, CIM_ERR_USAGE,
                             "--out %s: another cimgpu run is writing %s; wait for it to "
                             "finish or choose another --out",
                             s->path, o->partial);
    }
    if (!s->resume && !s->force) {
        close_fd(&o->old_fd);
        return cim_error_set(err, CIM_ERR_USAGE,
                             "--out %s: %s holds an interrupted run; --resume completes it, "
                             "--force discards it",
                             s->path, o->partial);
    }
    o->resume_found = s->resume;
    return 0;
}

/* A new, empty, locked file under a temporary name beside R.h5
 * ("R.h5.partial.XXXXXX"). */
static int make_temporary(cim_outfile *o, cim_error *err)
{
    mode_t mask;
    int held;
    if (snprintf(o->new_name, sizeof o->new_name, "%s.XXXXXX", o->partial) >=
        (int)sizeof o->new_name)
        return cim_error_set(err, CIM_ERR_USAGE, "--out %s: path too long", o->path);
    o->new_fd = mkstemp(o->new_name);
    if (o->new_fd < 0) {
        char *dir = folder_of(o->path);
        int e = errno;
        cim_error_set(err, CIM_ERR_IO, "--out %s: cannot create a file in %s: %s", o->path,
                      dir ? dir : "its folder", strerror(e));
        free(dir);
        return CIM_ERR_IO;
    }
    o->new_named = 1;
    mask = umask(0);
    umask(mask);
    (void)fchmod(o->new_fd, 0644 & ~mask); /* if it fails, mkstemp's 0600 stays: still ours */
    held = lock_exclusive(o->new_fd);
    if (held != 0)
        return cim_error_set(err, CIM_ERR_IO, "--out %s: cannot lock the new file: %s", o->path,
                             held < 0 ? strerror(errno) : "held by another process");
    return 0;
}

/* Can a file be made beside R.h5? A temporary one is made and removed. */
static int probe_folder(cim_outfile *o, cim_error *err)
{
    int rc = make_temporary(o, err);
    if (o->new_fd >= 0) {
        unlink(o->new_name);
        close_fd(&o->new_fd);
    }
    o->new_named = 0;
    o->new_name[0] = '\0';
    return rc;
}

int cim_outfile_claim(const cim_outfile_spec *s, cim_outfile *o, cim_error *err)
{
    struct stat st;
    int rc;
    memset(o, 0, sizeof *o);
    o->new_fd = o->old_fd = -1;
    if (!s->path || !*s->path)
        return cim_error_set(err, CIM_ERR_USAGE, "--out: no path given");
    o->path = join(s->path, "");
    o->partial = join(s->path, CIM_OUTFILE_PARTIAL_SUFFIX);
    o->force = s->force;
    if (!o->path || !o->partial) {
        cim_outfile_release(o, 0);
        return cim_error_set(err, CIM_ERR_NOMEM, "--out %s: out of memory", s->path);
    }
    rc = check_inputs(s, o->partial, err);
    if (rc == 0 && stat(s->path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            rc = cim_error_set(err, CIM_ERR_USAGE, "--out %s: is a directory", s->path);
        else if (!s->force)
            rc = cim_error_set(err, CIM_ERR_USAGE,
                               "--out %s: the file exists; --force replaces it with this "
                               "run's results",
                               s->path);
    }
    if (rc == 0)
        rc = take_old_partial(s, o, err);
    if (rc == 0)
        rc = probe_folder(o, err);
    if (rc != 0)
        cim_outfile_release(o, 0);
    return rc;
}

const char *cim_outfile_old_partial(const cim_outfile *o)
{
    return o->resume_found ? o->partial : NULL;
}

int cim_outfile_make(cim_outfile *o, cim_error *err)
{
    if (o->new_fd >= 0)
        return cim_error_set(err, CIM_ERR_USAGE, "--out %s: the new file exists already", o->path);
    return make_temporary(o, err);
}

const char *cim_outfile_new_name(const cim_outfile *o)
{
    return o->new_name;
}

int cim_outfile_publish_partial(cim_outfile *o, cim_error *err)
{
    if (o->old_fd < 0) {
        if (rename_noreplace(o->new_name, o->partial) != 0) {
            if (errno == EEXIST)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "--out %s: another cimgpu run created %s meanwhile", o->path,
                                     o->partial);
            return cim_error_set(err, CIM_ERR_IO, "%s: cannot create %s: %s", o->path, o->partial,
                                 strerror(errno));
        }
    } else {
        if (!names_fd(o->partial, o->old_fd))
            return cim_error_set(err, CIM_ERR_USAGE,
                                 "--out %s: %s was replaced by another process meanwhile", o->path,
                                 o->partial);
        if (rename(o->new_name, o->partial) != 0)
            return cim_error_set(err, CIM_ERR_IO, "%s: cannot rename the new file onto %s: %s",
                                 o->path, o->partial, strerror(errno));
        close_fd(&o->old_fd);
        o->resume_found = 0;
    }
    o->new_named = 0;
    o->partial_ours = 1;
    return 0;
}

int cim_outfile_publish(cim_outfile *o, cim_error *err)
{
    int rc;
    if (!o->partial_ours || !names_fd(o->partial, o->new_fd))
        return cim_error_set(err, CIM_ERR_IO, "%s: %s is no longer this run's file", o->path,
                             o->partial);
    if (fsync(o->new_fd) != 0 && errno != EINVAL)
        return cim_error_set(err, CIM_ERR_IO, "%s: cannot sync %s: %s", o->path, o->partial,
                             strerror(errno));
    if (o->force)
        rc = rename(o->partial, o->path);
    else {
        rc = rename_noreplace(o->partial, o->path);
    }
    if (rc != 0) {
        if (errno == EEXIST)
            return cim_error_set(err, CIM_ERR_USAGE,
                                 "--out %s: the file appeared while the run went on; the "
                                 "results stay in %s (--force replaces it)",
                                 o->path, o->partial);
        return cim_error_set(err, CIM_ERR_IO, "%s: cannot rename %s onto it: %s", o->path,
                             o->partial, strerror(errno));
    }
    o->partial_ours = 0;
    return 0;
}

void cim_outfile_release(cim_outfile *o, int keep_partial)
{
    if (!o->path)
        return;
    if (o->new_named && names_fd(o->new_name, o->new_fd))
        unlink(o->new_name);
    if (o->partial_ours && !keep_partial && names_fd(o->partial, o->new_fd))
        unlink(o->partial);
    close_fd(&o->new_fd);
    close_fd(&o->old_fd);
    free(o->path);
    free(o->partial);
    memset(o, 0, sizeof *o);
    o->new_fd = o->old_fd = -1;
}
