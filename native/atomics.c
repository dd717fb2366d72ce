/*
 * ocrmp._atomics: sequentially consistent operations on signed 64-bit words
 * inside any Python buffer (shared memory, mmap, bytearray).
 *
 * The slot table lives in memory shared by the master and its forked workers, so
 * every word is read and written with the C11/GCC __atomic builtins. Bad offsets
 * raise Python exceptions: a typo in a field offset must never become a segfault
 * or a silent write into the neighbouring slot.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#if !defined(__GNUC__) && !defined(__clang__)
#error "ocrmp._atomics needs the GCC/Clang __atomic builtins"
#endif

#define ORDER __ATOMIC_SEQ_CST

/* Validate (buffer, offset) and return the word's address, or NULL with an exception
 * set. On success the caller owns `view` and must release it. */
static int64_t *
word_at(PyObject *buf, PyObject *offset_obj, int writable, Py_buffer *view)
{
    Py_ssize_t offset = PyNumber_AsSsize_t(offset_obj, PyExc_IndexError);
    if (offset == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (PyObject_GetBuffer(buf, view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (writable && view->readonly) {
        PyErr_SetString(PyExc_TypeError, "atomics: the buffer is read-only");
        goto fail;
    }
    if (offset < 0 || offset > view->len - 8) {
        PyErr_Format(PyExc_IndexError,
                     "atomics: offset %zd out of bounds for a buffer of %zd bytes",
                     offset, view->len);
        goto fail;
    }
    if (offset % 8 != 0) {
        PyErr_Format(PyExc_ValueError, "atomics: offset %zd is not 8-byte aligned", offset);
        goto fail;
    }
    char *addr = (char *)view->buf + offset;
    /* A sliced memoryview can start anywhere; misaligned atomics are not atomic. */
    if (((uintptr_t)addr) % 8 != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "atomics: the word's address is not 8-byte aligned "
                        "(the buffer itself starts misaligned)");
        goto fail;
    }
    return (int64_t *)addr;
fail:
    PyBuffer_Release(view);
    return NULL;
}

static int
as_int64(PyObject *obj, int64_t *out)
{
    long long v = PyLong_AsLongLong(obj);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

static int
check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t expected)
{
    if (nargs != expected) {
        PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd arguments (%zd given)",
                     name, expected, nargs);
        return 0;
    }
    return 1;
}

static PyObject *
atomics_load(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    if (!check_nargs("load", nargs, 2)) {
        return NULL;
    }
    int64_t *word = word_at(args[0], args[1], 0, &view);
    if (word == NULL) {
        return NULL;
    }
    int64_t value = __atomic_load_n(word, ORDER);
    PyBuffer_Release(&view);
    return PyLong_FromLongLong(value);
}

static PyObject *
atomics_store(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    int64_t value;
    if (!check_nargs("store", nargs, 3) || as_int64(args[2], &value) < 0) {
        return NULL;
    }
    int64_t *word = word_at(args[0], args[1], 1, &view);
    if (word == NULL) {
        return NULL;
    }
    __atomic_store_n(word, value, ORDER);
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

static PyObject *
atomics_cas(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    int64_t expected, desired;
    if (!check_nargs("cas", nargs, 4) || as_int64(args[2], &expected) < 0
        || as_int64(args[3], &desired) < 0) {
        return NULL;
    }
    int64_t *word = word_at(args[0], args[1], 1, &view);
    if (word == NULL) {
        return NULL;
    }
    int swapped = __atomic_compare_exchange_n(word, &expected, desired, 0, ORDER, ORDER);
    PyBuffer_Release(&view);
    return PyBool_FromLong(swapped);
}

static PyObject *
atomics_fetch_add(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    int64_t delta;
    if (!check_nargs("fetch_add", nargs, 3) || as_int64(args[2], &delta) < 0) {
        return NULL;
    }
    int64_t *word = word_at(args[0], args[1], 1, &view);
    if (word == NULL) {
        return NULL;
    }
    /* Add as unsigned so overflow wraps (two's complement) instead of being undefined. */
    uint64_t previous = __atomic_fetch_add((uint64_t *)word, (uint64_t)delta, ORDER);
    PyBuffer_Release(&view);
    return PyLong_FromLongLong((int64_t)previous);
}

static PyMethodDef atomics_methods[] = {
    {"load", (PyCFunction)(void (*)(void))atomics_load, METH_FASTCALL,
     "load(buf, offset) -> int\n\nRead the signed 64-bit word at offset."},
    {"store", (PyCFunction)(void (*)(void))atomics_store, METH_FASTCALL,
     "store(buf, offset, value) -> None\n\nWrite the signed 64-bit word at offset."},
    {"cas", (PyCFunction)(void (*)(void))atomics_cas, METH_FASTCALL,
     "cas(buf, offset, expected, new) -> bool\n\n"
     "Replace the word with new if it equals expected; True when replaced."},
    {"fetch_add", (PyCFunction)(void (*)(void))atomics_fetch_add, METH_FASTCALL,
     "fetch_add(buf, offset, delta) -> int\n\n"
     "Add delta to the word (wrapping) and return its previous value."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef atomics_module = {
    PyModuleDef_HEAD_INIT,
    "ocrmp._atomics",
    "Sequentially consistent atomics on 64-bit words in shared buffers.",
    0,
    atomics_methods,
};

PyMODINIT_FUNC
PyInit__atomics(void)
{
    return PyModuleDef_Init(&atomics_module);
}
