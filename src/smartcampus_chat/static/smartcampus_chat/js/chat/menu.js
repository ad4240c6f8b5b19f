/*
 * A message's action menu: a menu button (.scc-menu-button, aria-haspopup="menu") opens
 * div.scc-menu[role=menu] of button[role=menuitem][data-action] after it. Keys as in the
 * ARIA menu button pattern: Enter, Space or ↓ open it on the first item, ↑ on the last;
 * ↑ ↓ Home End move, Esc closes and gives the focus back, Tab closes. One menu at a time.
 */

let current = null; // {button, menu}: the open menu (at most one on the page)
let counter = 0;

export function closeMenu(refocus) {
  if (!current) {
    return;
  }
  const open = current;
  current = null;
  open.menu.remove();
  open.button.setAttribute("aria-expanded", "false");
  open.button.removeAttribute("aria-controls");
  if (refocus) {
    open.button.focus();
  }
}

function items(menu) {
  return Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]'));
}

function move(menu, step, absolute) {
  const all = items(menu);
  if (!all.length) {
    return;
  }
  let index = all.indexOf(document.activeElement);
  index = absolute != null ? absolute : (index + step + all.length) % all.length;
  all[(index + all.length) % all.length].focus();
}

function onMenuKey(event) {
  const menu = event.currentTarget;
  const keys = {
    ArrowDown: function () {
      move(menu, 1);
    },
    ArrowUp: function () {
      move(menu, -1);
    },
    Home: function () {
      move(menu, 0, 0);
    },
    End: function () {
      move(menu, 0, -1);
    },
    Escape: function () {
      closeMenu(true);
    },
  };
  if (event.key === "Tab") {
    closeMenu(false);
    return;
  }
  if (keys[event.key]) {
    event.preventDefault();
    event.stopPropagation();
    keys[event.key]();
  }
}

/**
 * Open the menu of `button` with `entries` ({action, label, icon, danger, run}); `run`
 * gets the button back when its item is chosen (the menu is closed by then).
 * `focusLast`: start on the last item (↑).
 */
export function openMenu(button, entries, focusLast) {
  closeMenu(false);
  if (!entries.length) {
    return;
  }
  counter += 1;
  const menu = document.createElement("div");
  menu.className = "scc-menu";
  menu.id = "scc-menu-" + counter;
  menu.setAttribute("role", "menu");
  const label = button.querySelector(".visually-hidden");
  if (label) {
    menu.setAttribute("aria-label", label.textContent);
  }
  entries.forEach(function (entry) {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "scc-menu-item" + (entry.danger ? " scc-menu-danger" : "");
    item.setAttribute("role", "menuitem");
    item.setAttribute("tabindex", "-1");
    item.setAttribute("data-action", entry.action);
    const icon = document.createElement("span");
    icon.className = "bi " + entry.icon;
    icon.setAttribute("aria-hidden", "true");
    item.appendChild(icon);
    item.appendChild(document.createTextNode(" " + entry.label));
    item.addEventListener("click", function (event) {
      event.preventDefault();
      event.stopPropagation();
      closeMenu(false);
      entry.run(button);
    });
    menu.appendChild(item);
  });
  menu.addEventListener("keydown", onMenuKey);
  button.insertAdjacentElement("afterend", menu);
  button.setAttribute("aria-expanded", "true");
  button.setAttribute("aria-controls", menu.id);
  current = { button: button, menu: menu };
  // Opens upwards when the scrolling list has no room for it below the button.
  const box = button.closest(".scc-scroll");
  if (box && menu.getBoundingClientRect().bottom > box.getBoundingClientRect().bottom) {
    menu.classList.add("scc-menu-up");
  }
  move(menu, 0, focusLast ? -1 : 0);
}

export function isOpen(button) {
  return !!current && current.button === button;
}

export function init() {
  document.addEventListener("pointerdown", function (event) {
    if (current && !current.menu.contains(event.target) && !current.button.contains(event.target)) {
      closeMenu(false);
    }
  });
}
