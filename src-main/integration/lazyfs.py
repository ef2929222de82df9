#!/usr/bin/python3
"""A FUSE passthrough filesystem that loses unsynced writes, as LazyFS does (data only).

Usage: lazyfs.py BACKING MOUNTPOINT. Written data stays in memory, per inode, until fsync or
fdatasync of that file writes it to BACKING; reads see it. Writing anything to `/.crash` in the
mount forgets every unsynced write: the files read then as a power loss would leave them (names,
renames and links are applied at once, as on a journalled filesystem; their data is what was synced).
Runs in the foreground, single-threaded, until unmounted.
"""
import errno
import os
import sys

from fusepy import FUSE, FuseOSError, Operations

CRASH = '/.crash'


class LazyFS(Operations):
    def __init__(self, root):
        self.root = root
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
            self._sync(path)

    def fsyncdir(self, path, datasync, fh):
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return 0


if __name__ == '__main__':
    FUSE(LazyFS(sys.argv[1]), sys.argv[2], foreground=True, nothreads=True, allow_other=True)
