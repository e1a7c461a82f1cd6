/**
 * console/dom.js: building elements. User data (paths, bodies, errors) only ever reaches the page
 * through textContent, never as markup.
 */
export const DOM_JS = String.raw`
export var $ = function (id) { return document.getElementById(id); };

/** An element with text (textContent), a class, a title and children. */
export function el(tag, options, children) {
  var node = document.createElement(tag);
  var o = options || {};
  if (o.text !== undefined) node.textContent = String(o.text);
  if (o.className) node.className = o.className;
  if (o.title) node.title = o.title;
  (children || []).forEach(function (child) { node.appendChild(child); });
  return node;
}

export function setText(id, value) { $(id).textContent = String(value); }

var SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attributes) {
  var node = document.createElementNS(SVG, tag);
  Object.keys(attributes).forEach(function (name) { node.setAttribute(name, String(attributes[name])); });
  return node;
}
`;
