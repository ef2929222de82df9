#!/usr/bin/python3
"""A FUSE passthrough filesystem that loses unsynced writes, as LazyFS does (data only).

Usage: lazyfs.py [--write-delay-ms N] [--fsync-delay-ms N] BACKING MOUNTPOINT. Written data stays
in memory, per inode, until fsync or fdatasync of that file writes it to BACKING; reads see it.
Writing anything to `/.crash` in the mount forgets every unsynced write: the files read then as a
power loss would leave them (names, renames and links are applied at once, as on a journalled
filesystem; their data is what was synced).

--write-delay-ms N makes a slow disk: each write call (the kernel splits writes into calls of at
most 4 KiB here) waits N ms first, and each fsync/fdatasync too unless --fsync-delay-ms says
otherwise. Single-threaded, so every other operation waits behind a slow one, as on one busy
device. No delay by default. Runs in the foreground until unmounted.
"""
import argparse
import errno
import os
import time

from fusepy import FUSE, FuseOSError, Operations

CRASH = '/.crash'


class LazyFS(Operations):
    def __init__(self, root, write_delay=0.0, fsync_delay=0.0):
        self.root = root
        # Seconds each write call, and each fsync, waits before it is done (a slow disk).
        self.write_delay = write_delay
        self.fsync_delay = fsync_delay
        # st_ino of the backing file -> its whole content, as written but not yet synced.
        self.dirty = {}

    def _real(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def _ino(self, path):
        return os.lstat(self._real(path)).st_ino

    def _content(self, path):
        ino = self._ino(path)
        if ino not in self.dirty:
            with open(self._real(path), 'rb') as f:
                self.dirty[ino] = bytearray(f.read())
        return self.dirty[ino]

    def _sync(self, path):
        ino = self._ino(path)
        data = self.dirty.pop(ino, None)
        if data is None:
            return
        fd = os.open(self._real(path), os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, bytes(data))
            os.fsync(fd)
        finally:
            os.close(fd)

    def getattr(self, path, fh=None):
        if path == CRASH:
            return {'st_mode': 0o100644, 'st_nlink': 1, 'st_size': 0}
        try:
            st = os.lstat(self._real(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        attrs = {k: getattr(st, k) for k in ('st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_size', 'st_atime', 'st_mtime', 'st_ctime', 'st_ino')}
        if st.st_ino in self.dirty:
            attrs['st_size'] = len(self.dirty[st.st_ino])
        return attrs

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._real(path))

    def readlink(self, path):
        return os.readlink(self._real(path))

    def access(self, path, mode):
        if path != CRASH and not os.path.lexists(self._real(path)):
            raise FuseOSError(errno.ENOENT)

    def statfs(self, path):
        st = os.statvfs(self._real(path))
        return {k: getattr(st, k) for k in ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag', 'f_frsize', 'f_namemax')}

    def chmod(self, path, mode):
        os.chmod(self._real(path), mode)

    def chown(self, path, uid, gid):
        os.lchown(self._real(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._real(path), times, follow_symlinks=False)

    def mkdir(self, path, mode):
        os.mkdir(self._real(path), mode)

    def rmdir(self, path):
        os.rmdir(self._real(path))

    def unlink(self, path):
        st = os.lstat(self._real(path))
        os.unlink(self._real(path))
        if st.st_nlink == 1:
            self.dirty.pop(st.st_ino, None)

    def symlink(self, target, source):
        os.symlink(source, self._real(target))

    def link(self, target, source):
        os.link(self._real(source), self._real(target))

    def rename(self, old, new):
        try:
            replaced = os.lstat(self._real(new))
        except OSError:
            replaced = None
        os.rename(self._real(old), self._real(new))
        if replaced is not None and replaced.st_nlink == 1 and replaced.st_ino != self._ino(new):
            self.dirty.pop(replaced.st_ino, None)

    def open(self, path, flags):
        return 0

    def create(self, path, mode, fi=None):
        if path == CRASH:
            return 0
        fd = os.open(self._real(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.close(fd)
        return 0

    def read(self, path, size, offset, fh):
        if path == CRASH:
            return b''
        ino = self._ino(path)
        if ino in self.dirty:
            return bytes(self.dirty[ino][offset : offset + size])
        with open(self._real(path), 'rb') as f:
            f.seek(offset)
            return f.read(size)

    def write(self, path, data, offset, fh):
        if path == CRASH:
            self.dirty.clear()
            return len(data)
        if self.write_delay:
            time.sleep(self.write_delay)
        content = self._content(path)
        if len(content) < offset:
            content.extend(b'\0' * (offset - len(content)))
        content[offset : offset + len(data)] = data
        return len(data)

    def truncate(self, path, length, fh=None):
        if path == CRASH:
            return
        content = self._content(path)
        del content[length:]
        if len(content) < length:
            content.extend(b'\0' * (length - len(content)))

    def fsync(self, path, datasync, fh):
        if path != CRASH:
            if self.fsync_delay:
                time.sleep(self.fsync_delay)
            self._sync(path)

    def fsyncdir(self, path, datasync, fh):
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return 0


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='A FUSE passthrough that loses unsynced writes, optionally slow.')
    parser.add_argument('--write-delay-ms', type=float, default=0.0, help='wait this long in each write call (default 0)')
    parser.add_argument('--fsync-delay-ms', type=float, default=None, help='wait this long in each fsync (default: the write delay)')
    parser.add_argument('backing')
    parser.add_argument('mountpoint')
    args = parser.parse_args()
    if args.write_delay_ms < 0 or (args.fsync_delay_ms is not None and args.fsync_delay_ms < 0):
        parser.error('delays cannot be negative')
    fsync_ms = args.write_delay_ms if args.fsync_delay_ms is None else args.fsync_delay_ms
    FUSE(
        LazyFS(args.backing, args.write_delay_ms / 1000, fsync_ms / 1000),
        args.mountpoint,
        foreground=True,
        nothreads=True,
        allow_other=True,
    )
